"""The HTTPS API: API Gateway (REST) with access logs, in front of the API function."""

import json

import aws_cdk as cdk
import constructs
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs

from infra.constructs.access import (
    allow_index_query,
    allow_items,
    allow_objects,
    allow_storage_secrets,
)
from infra.constructs.functions import ServiceFunction, log_retention
from infra.constructs.nag import acknowledge, acknowledge_managed_policy
from infra.constructs.storage import ACCOUNTS_PREFIX, TASKS_BY_ACCOUNT_TIME, TEMPLATES_BY_ID, Storage
from infra.settings import DeploymentSettings

UPLOADS_PREFIX = f"{ACCOUNTS_PREFIX}*/uploads/"
"""transcoder.uploads: every account's uploads, `accounts/<account>/uploads/…` of the input bucket."""
# API Gateway's throttling answer, in the contract's envelope (1007, as functions/transcoder/api/envelope.py builds it).
THROTTLED_BODY = json.dumps(
    {"code": 1007, "msg": "too many requests", "data": None, "request_id": "$context.requestId"}
)


class Api(constructs.Construct):
    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        storage: Storage,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        self.handler = ServiceFunction(
            self,
            "Handler",
            settings=settings,
            handler="handlers.api.handler",
            memory_mb=settings.api_memory_mb,
            timeout=cdk.Duration.seconds(29),
            environment={
                **environment,
                **storage.access_key_environment,
                "NONCE_TABLE": storage.nonce_table.table_name,
            },
        )
        # Signature auth: read a key, decrypt its secret (only with the access-key context), spend a nonce.
        storage.allow_access_key_secrets(self.handler.role)
        allow_items(self.handler.role, storage.nonce_table, ["dynamodb:PutItem"])
        allow_items(
            self.handler.role,
            storage.task_table,
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        )
        allow_index_query(self.handler.role, storage.task_table, TASKS_BY_ACCOUNT_TIME)
        # Templates: managed through the API; list_template queries an account's items.
        allow_items(
            self.handler.role,
            storage.template_table,
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"],
        )
        allow_index_query(self.handler.role, storage.template_table, TEMPLATES_BY_ID)
        # Storages: add/query/list/delete an account's items (add and delete are transactions of these actions).
        allow_items(
            self.handler.role,
            storage.storage_table,
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"],
        )
        # A storage's keys: created with the storage, deleted with it, read to presign query_task's URLs.
        allow_storage_secrets(
            self.handler.role,
            ["secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:DeleteSecret",
             "secretsmanager:GetSecretValue"],
            reason="Each storage's keys are one secret named transcoder/storages/<account>/<storage_id>, "
            "created by add_storage at run time; the policy allows that name prefix only.",
        )  # fmt: skip
        # create_task's client_token: Powertools idempotency records.
        allow_items(
            self.handler.role,
            storage.idempotency_table,
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        )
        storage.allow_presigning(
            self.handler.role,
            settings.extra_input_buckets,
            reason="query_task presigns any task's input or output key.",
        )
        # create_upload's presigned POST carries this permission; its policy names the one key of the caller.
        allow_objects(
            self.handler.role,
            storage.input_bucket,
            ["s3:PutObject"],
            prefix=UPLOADS_PREFIX,
            reason="create_upload presigns a POST of one key under accounts/<account>/uploads/, chosen at run time "
            "(the account from the request's signature); IAM cannot name the account, the POST policy does.",
        )

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention(settings), removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            description="Video transcoding API (api.md contract)",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.DESTROY,
            deploy_options=apigateway.StageOptions(
                stage_name="v1",
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                tracing_enabled=True,
                throttling_rate_limit=100,
                throttling_burst_limit=200,
            ),
        )
        # API Gateway's own throttling (the stage's limits) answers in the contract's envelope, as the OpenAPI
        # document declares (429, code 1007), instead of its default `{"message": ...}`.
        self.rest_api.add_gateway_response(
            "Throttled",
            type=apigateway.ResponseType.THROTTLED,
            status_code="429",
            templates={"application/json": THROTTLED_BODY},
        )
        integration = apigateway.LambdaIntegration(self.handler.function)
        api_resource = self.rest_api.root.add_resource("api")
        # The contract's signature covers the body (Content-MD5), which API Gateway authorizers never see:
        # the API function verifies it. `iam` puts SigV4 in front as well.
        iam_too = settings.api_authorization == "iam"
        authorization = apigateway.AuthorizationType.IAM if iam_too else apigateway.AuthorizationType.NONE
        api_resource.add_proxy(
            default_integration=integration,
            any_method=True,
            default_method_options=apigateway.MethodOptions(authorization_type=authorization),
        )

        acknowledge(
            self.rest_api,
            "AwsSolutions-COG4",
            "Callers sign each request with an access key (api.md's HMAC signature, verified by the API function "
            "over method, path, query, Date, nonce and body MD5); a Cognito user pool does not fit "
            "service-to-service access keys.",
        )
        if not iam_too:
            acknowledge(
                self.rest_api,
                "AwsSolutions-APIG4",
                "Authorization is the contract's access-key signature, which covers the body: API Gateway "
                "authorizers never see the body, so the API function verifies it before any route runs.",
            )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "The API function validates every request against the contract's models and answers 1001/1002 "
            "in the contract's envelope; API Gateway's validator would answer in its own format.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "A WAF web ACL is an account-level choice with its own cost; operators associate theirs with the stage.",
        )
        acknowledge_managed_policy(
            self.rest_api,
            iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs"),
            "API Gateway's account-wide logging role needs AWS's managed push-to-CloudWatch policy.",
        )

    @property
    def url(self) -> str:
        return self.rest_api.url
