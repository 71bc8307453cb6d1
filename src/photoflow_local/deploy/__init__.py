"""Create a translated template's resources in the local AWS, as CloudFormation would.

Every resource comes from the template: add a queue or a subscription there
and it appears here with no other change. Resources are created in dependency
order through the ordinary AWS APIs of the local endpoint. Lambda functions
are registered with moto (so Step Functions, S3 and SNS can find them) and run
in local sandbox processes; SQS event source mappings are served by the local poller, which
honours batching and partial batch failures; REST APIs become routes of the
local API front end.
"""

from photoflow_local.deploy.deployer import LocalDeployer
from photoflow_local.deploy.model import (
    ACCOUNT_ID,
    ApiDefinition,
    ApiRoute,
    DeployedStack,
    EventSourceMapping,
)

__all__ = [
    "ACCOUNT_ID",
    "ApiDefinition",
    "ApiRoute",
    "DeployedStack",
    "EventSourceMapping",
    "LocalDeployer",
]
