"""The web console at <API URL>/console/: its static files, served by a function of their own.

Why a function and not an S3 bucket behind API Gateway: the console is three small text files
(~0.6 MB, hls.js included) that change only with a deploy; a Lambda asset carries them with no bucket,
deployment custom resource or API Gateway service role to secure, and the page stays same-origin with
the API (so the API needs no CORS at all). It is a separate function, standard library only, so the API
function's package and cold start are untouched.
"""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_s3 as s3

from infra.bundling import console_site_code
from infra.constructs.functions import ServiceFunction
from infra.constructs.nag import acknowledge
from infra.settings import DeploymentSettings

CONSOLE_HANDLER = "handlers.console_site.handler"


class ConsoleSite(constructs.Construct):
    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        rest_api: apigateway.RestApi,
        input_bucket: s3.Bucket,
    ) -> None:
        super().__init__(scope, id)
        self.handler = ServiceFunction(
            self,
            "Handler",
            settings=settings,
            handler=CONSOLE_HANDLER,
            memory_mb=128,
            timeout=cdk.Duration.seconds(5),
            environment={},
            code=console_site_code(),
        )
        integration = apigateway.LambdaIntegration(self.handler.function)
        public = apigateway.AuthorizationType.NONE
        console = rest_api.root.add_resource("console")
        methods = [
            console.add_method("GET", integration, authorization_type=public),
            console.add_resource("{file}").add_method("GET", integration, authorization_type=public),
        ]
        for method in methods:
            acknowledge(
                method,
                "AwsSolutions-APIG4",
                "The console's static files (HTML, script, CSS) are public like any web page's and carry no data; "
                "every API call the page makes is signed with the user's access key.",
            )
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "The console's static files are public; the page signs each API call with the user's access key.",
            )
        # Drag-and-drop upload: the page posts create_upload's presigned form straight to the input bucket and
        # must read S3's answer. The API's own origin cannot be named here (the bucket would depend on the API,
        # which depends on the functions that name the bucket: a cycle), so the rule allows API Gateway's
        # origins of this region. It grants nothing: what may be stored is decided by the form's signed policy.
        input_bucket.add_cors_rule(
            allowed_methods=[s3.HttpMethods.POST],
            allowed_origins=[f"https://*.execute-api.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}"],
            max_age=3000,
        )
