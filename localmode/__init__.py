"""Local mode: the whole service on one machine, against moto's server as the AWS endpoint.

Nothing here re-implements the service: the resources come from the template that the
CDK app synthesizes, the state machine is that template's definition, and every Lambda
invocation runs the real handler named in the template.
"""
