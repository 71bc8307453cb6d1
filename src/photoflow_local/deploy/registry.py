"""Which handler creates each CloudFormation resource type locally, and which types are
only given a name (CloudFormation creates them on AWS; here nothing would use them)."""

from __future__ import annotations

from photoflow_local.deploy import apigateway, compute, identity, messaging, monitoring, storage
from photoflow_local.deploy.context import Handler

HANDLERS: dict[str, Handler] = {
    **storage.HANDLERS,
    **messaging.HANDLERS,
    **compute.HANDLERS,
    **monitoring.HANDLERS,
    **identity.HANDLERS,
    **apigateway.HANDLERS,
}

# Created by CloudFormation on AWS but with no behaviour to emulate here.
REFERENCES_ONLY = {
    "AWS::Lambda::LayerVersion": "the photoflow package is imported from the virtualenv",
    "AWS::Lambda::Permission": "the local stack does not evaluate resource policies",
    "AWS::ApiGateway::Deployment": "routes are served as soon as the RestApi exists",
    "AWS::CloudFront::Distribution": "the local API serves web/ itself",
    "AWS::CloudFront::OriginAccessControl": "the local API serves web/ itself",
    "AWS::Cognito::UserPoolDomain": (
        "the local API serves the managed login's endpoints itself, on the page's origin"
    ),
    "AWS::Cognito::ManagedLoginBranding": "the local sign-in form is unstyled",
}
