"""The CDK app that deploys the transcoding service."""
