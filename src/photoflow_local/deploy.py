"""Create a translated template's resources in the local AWS, as CloudFormation would.

Every resource comes from the template: add a queue or a subscription there
and it appears here with no other change. Resources are created in dependency
order through the ordinary AWS APIs of the local endpoint. Lambda functions
are registered with moto (so Step Functions, S3 and SNS can find them) and run
in local sandbox processes; SQS event source mappings are served by the local poller, which
honours batching and partial batch failures; REST APIs become routes of the
local API front end.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from photoflow_local.intrinsics import Resolver, UnresolvedReference, references
from photoflow_local.lambdas import LocalFunction
from photoflow_local.template import LOCAL_CODE_BUCKET, TranslatedTemplate

ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class EventSourceMapping:
    logical_id: str
    queue_arn: str
    function_name: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool


@dataclass(frozen=True)
class ApiRoute:
    api_id: str
    method: str
    path: str  # OpenAPI style, /photos/{photoId}
    function_name: str
    # API Gateway's authorization type of the method: NONE, AWS_IAM or COGNITO_USER_POOLS.
    authorization: str = "NONE"
    # A MOCK integration (CORS preflights) answers itself: (status, headers, body).
    mock: tuple[int, dict[str, str], str] | None = None

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method.upper():
            return None
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        return found.groupdict() if found else None


@dataclass
class ApiDefinition:
    api_id: str
    logical_id: str
    stage: str = ""
    routes: list[ApiRoute] = field(default_factory=list)
    binary_media_types: list[str] = field(default_factory=list)
    # Headers API Gateway adds to its own 4xx/5xx responses (x-amazon-apigateway-gateway-responses).
    gateway_response_headers: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class DeployedStack:
    name: str
    region: str
    parameters: dict[str, Any]
    physical_ids: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    event_source_mappings: list[EventSourceMapping] = field(default_factory=list)
    apis: dict[str, ApiDefinition] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    not_emulated: dict[str, str] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> dict[str, str]:
        return {k: self.physical_ids[k] for k, t in self.types.items() if t == resource_type}


class LocalDeployer:
    """CloudFormation's create-stack, for the local endpoint."""

    def __init__(
        self, endpoint_url: str, region: str = "us-east-1", stack_name: str = "photoflow"
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.stack_name = stack_name
        session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=region
        )
        self._client = lambda service: session.client(service, endpoint_url=endpoint_url)
        self._handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "AWS::S3::Bucket": self._bucket,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::SQS::Queue": self._queue,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::DynamoDB::Table": self._table,
            "AWS::IAM::Role": self._role,
            "AWS::Lambda::Function": self._function,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::ApiGateway::RestApi": self._rest_api,
            "AWS::ApiGateway::Stage": self._api_stage,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::Events::Rule": self._event_rule,
            "AWS::KMS::Key": self._kms_key,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
        }
        # Created by CloudFormation on AWS but with no behaviour to emulate here.
        self._references_only = {
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

    # ------------------------------------------------------------ orchestration
    def deploy(
        self, template: TranslatedTemplate, parameters: dict[str, Any] | None = None
    ) -> DeployedStack:
        values = {
            name: str(spec["Default"]) if "Default" in spec else None
            for name, spec in template.parameters.items()
        }
        values.update({k: str(v) for k, v in (parameters or {}).items()})
        missing = [name for name, value in values.items() if value is None]
        if missing:
            raise ValueError(f"parameters without a value: {', '.join(missing)}")
        self.stack = DeployedStack(self.stack_name, self.region, values)
        self.template = template
        self.resolver = Resolver(self._ref, self._get_att, template.conditions, template.mappings)
        for logical_id in self._creation_order(template.resources):
            resource = template.resources[logical_id]
            if "Condition" in resource and not self.resolver.condition(resource["Condition"]):
                continue
            kind = resource["Type"]
            self.stack.types[logical_id] = kind
            handler = self._handlers.get(kind)
            if handler is None:
                reason = self._references_only.get(kind, "not emulated by the local stack")
                self.stack.not_emulated[logical_id] = f"{kind}: {reason}"
                self.stack.physical_ids[logical_id] = f"{logical_id}-local"
                continue
            handler(logical_id, self.resolver.resolve(resource.get("Properties", {})))
        for name, output in template.outputs.items():
            if "Condition" in output and not self.resolver.condition(output["Condition"]):
                continue
            try:
                self.stack.outputs[name] = self.resolver.resolve(output["Value"])
            except UnresolvedReference as missing:
                # An attribute of a resource the local stack does not emulate.
                self.stack.not_emulated[f"Outputs.{name}"] = f"not available locally ({missing})"
        return self.stack

    @staticmethod
    def _creation_order(resources: dict[str, dict[str, Any]]) -> list[str]:
        dependencies: dict[str, set[str]] = {}
        for logical_id, resource in resources.items():
            depends_on = resource.get("DependsOn", [])
            depends = {depends_on} if isinstance(depends_on, str) else set(depends_on)
            depends |= references(resource.get("Properties", {}))
            dependencies[logical_id] = {d for d in depends if d in resources}
        order: list[str] = []
        visiting: set[str] = set()

        def visit(node: str) -> None:
            if node in order:
                return
            if node in visiting:
                raise ValueError(f"circular dependency through {node}")
            visiting.add(node)
            for dependency in sorted(dependencies[node]):
                visit(dependency)
            visiting.discard(node)
            order.append(node)

        for logical_id in resources:
            visit(logical_id)
        return order

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": self._arn("cloudformation", f"stack/{self.stack_name}/local"),
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.stack.parameters:
            return self.stack.parameters[name]
        if name in self.stack.physical_ids:
            return self.stack.physical_ids[name]
        raise UnresolvedReference(f"Ref {name}: not created (yet)")

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        try:
            return self.stack.attributes[logical_id][attribute]
        except KeyError:
            raise UnresolvedReference(f"Fn::GetAtt {logical_id}.{attribute}") from None

    def _created(self, logical_id: str, physical_id: str, **attributes: Any) -> None:
        self.stack.physical_ids[logical_id] = physical_id
        self.stack.attributes[logical_id] = attributes

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"

    # ------------------------------------------------------------ S3
    def _bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        s3 = self._client("s3")
        name = props.get("BucketName") or f"{self.stack_name}-{logical_id}".lower()
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region}
            )
        if "BucketEncryption" in props:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": rule[
                                "ServerSideEncryptionByDefault"
                            ],
                            "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
                        }
                        for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if props.get("VersioningConfiguration", {}).get("Status"):
            s3.put_bucket_versioning(
                Bucket=name,
                VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]},
            )
        if "CorsConfiguration" in props:
            rules = [
                {
                    ("MaxAgeSeconds" if key == "MaxAge" else key): value
                    for key, value in rule.items()
                }
                for rule in props["CorsConfiguration"]["CorsRules"]
            ]
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
        notifications = props.get("NotificationConfiguration", {})
        if notifications:
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration=_s3_notifications(notifications)
            )
        self._created(
            logical_id,
            name,
            Arn=f"arn:aws:s3:::{name}",
            DomainName=f"{name}.s3.amazonaws.com",
            RegionalDomainName=f"{name}.s3.{self.region}.amazonaws.com",
        )

    def _bucket_policy(self, logical_id: str, props: dict[str, Any]) -> None:
        document = dict(props["PolicyDocument"])
        statements = document.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        # The local endpoint is plain HTTP on 127.0.0.1, so a TLS-only rule would refuse
        # everything; and moto checks a Deny's conditions without the request's context, so a
        # conditional Deny (a link's signature age) would refuse every read too.
        kept = [s for s in statements if not (s.get("Effect") == "Deny" and s.get("Condition"))]
        skipped = sorted(
            {
                key
                for s in statements
                if s not in kept
                for condition in s["Condition"].values()
                for key in condition
            }
        )
        if skipped:
            self.stack.not_emulated[logical_id] = (
                f"AWS::S3::BucketPolicy: Deny statements on {', '.join(skipped)} skipped "
                "(the local endpoint is HTTP and does not evaluate request context)"
            )
        if kept:
            document["Statement"] = kept
            self._client("s3").put_bucket_policy(
                Bucket=props["Bucket"], Policy=json.dumps(document)
            )
        self._created(logical_id, f"{props['Bucket']}-policy")

    # ------------------------------------------------------------ SQS / SNS
    def _queue(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("QueueName") or f"{self.stack_name}-{logical_id}"
        attributes = {
            key: json.dumps(value)
            if isinstance(value, dict)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for key, value in props.items()
            if key not in {"QueueName", "Tags"}
        }
        url = self._client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self._created(logical_id, url, Arn=self._arn("sqs", name), QueueName=name, QueueUrl=url)

    def _queue_policy(self, logical_id: str, props: dict[str, Any]) -> None:
        sqs = self._client("sqs")
        for url in props["Queues"]:
            sqs.set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
            )
        self._created(logical_id, f"{logical_id}-local")

    def _topic(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("TopicName") or f"{self.stack_name}-{logical_id}"
        attributes = {k: str(props[k]) for k in ("DisplayName", "KmsMasterKeyId") if k in props}
        arn = self._client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self._created(logical_id, arn, TopicArn=arn, TopicName=name)

    def _subscription(self, logical_id: str, props: dict[str, Any]) -> None:
        attributes: dict[str, str] = {}
        for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
            if key in props:
                attributes[key] = json.dumps(props[key])
        for key in ("FilterPolicyScope", "RawMessageDelivery"):
            if key in props:
                attributes[key] = (
                    str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                )
        arn = self._client("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        self._created(logical_id, arn)

    # ------------------------------------------------------------ DynamoDB
    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        dynamodb = self._client("dynamodb")
        name = props.get("TableName") or f"{self.stack_name}-{logical_id}"
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for key in (
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "ProvisionedThroughput",
            "StreamSpecification",
        ):
            if key in props:
                request[key] = props[key]
        if "SSESpecification" in props:
            request["SSESpecification"] = {
                "Enabled": bool(props["SSESpecification"].get("SSEEnabled"))
            }
        description = dynamodb.create_table(**request)["TableDescription"]
        if "TimeToLiveSpecification" in props:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"]
            )
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        self._created(
            logical_id,
            name,
            Arn=description["TableArn"],
            StreamArn=description.get("LatestStreamArn"),
        )

    # ------------------------------------------------------------ IAM
    def _role(self, logical_id: str, props: dict[str, Any]) -> None:
        iam = self._client("iam")
        name = props.get("RoleName") or f"{self.stack_name}-{logical_id}"[:64]
        role = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
            Path=props.get("Path", "/"),
        )["Role"]
        for policy in props.get("Policies", []):
            # SAM's policy templates omit Version, which AWS tolerates and moto refuses.
            document = {"Version": "2012-10-17", **policy["PolicyDocument"]}
            iam.put_role_policy(
                RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document)
            )
        self._created(logical_id, name, Arn=role["Arn"], RoleId=role["RoleId"])

    # ------------------------------------------------------------ Lambda
    def _function(self, logical_id: str, props: dict[str, Any]) -> None:
        code = props["Code"]
        if code.get("S3Bucket") != LOCAL_CODE_BUCKET:
            raise ValueError(f"{logical_id}: only local code (CodeUri to a folder) runs locally")
        code_dir = self.template.code_paths[code["S3Key"]]
        name = props.get("FunctionName") or logical_id
        environment = {
            k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()
        }
        response = self._client("lambda").create_function(
            FunctionName=name,
            Runtime=props.get("Runtime", "python3.12"),
            Role=props["Role"],
            Handler=props["Handler"],
            Code={"ZipFile": _zip_folder(code_dir)},
            Environment={"Variables": environment},
            Timeout=int(props.get("Timeout", 3)),
            MemorySize=int(props.get("MemorySize", 128)),
            Description=props.get("Description", ""),
        )
        self.stack.functions[name] = LocalFunction(
            name=name,
            code_dir=code_dir,
            handler=props["Handler"],
            environment=environment,
            timeout_seconds=int(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
        )
        self._created(logical_id, name, Arn=response["FunctionArn"])

    def _event_source_mapping(self, logical_id: str, props: dict[str, Any]) -> None:
        source = props["EventSourceArn"]
        if ":sqs:" not in source:
            self.stack.not_emulated[logical_id] = (
                f"event source {source}: only SQS is polled locally"
            )
            self._created(logical_id, f"{logical_id}-local")
            return
        function_name = str(props["FunctionName"]).rsplit(":", 1)[-1]
        self.stack.event_source_mappings.append(
            EventSourceMapping(
                logical_id=logical_id,
                queue_arn=source,
                function_name=function_name,
                batch_size=int(props.get("BatchSize", 10)),
                batching_window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in props.get("FunctionResponseTypes", []),
            )
        )
        self._created(logical_id, f"{logical_id}-local")

    # ------------------------------------------------------------ Step Functions
    def _state_machine(self, logical_id: str, props: dict[str, Any]) -> None:
        definition = props.get("DefinitionString")
        if definition is None:
            definition = json.dumps(props["Definition"])
        substitutions = props.get("DefinitionSubstitutions", {})
        definition = re.sub(
            r"\$\{(\w+)\}",
            lambda m: str(substitutions[m.group(1)]) if m.group(1) in substitutions else m.group(0),
            definition,
        )
        name = props.get("StateMachineName") or logical_id
        request: dict[str, Any] = {
            "name": name,
            "definition": definition,
            "roleArn": props["RoleArn"],
            "type": props.get("StateMachineType", "STANDARD"),
        }
        if "TracingConfiguration" in props:
            request["tracingConfiguration"] = {
                "enabled": bool(props["TracingConfiguration"].get("Enabled"))
            }
        if "LoggingConfiguration" in props:
            request["loggingConfiguration"] = _logging_configuration(props["LoggingConfiguration"])
        arn = self._client("stepfunctions").create_state_machine(**request)["stateMachineArn"]
        self._created(logical_id, arn, Arn=arn, Name=name)

    # ------------------------------------------------------------ logs, alarms
    def _log_group(self, logical_id: str, props: dict[str, Any]) -> None:
        logs = self._client("logs")
        name = props.get("LogGroupName") or f"/{self.stack_name}/{logical_id}"
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(props["RetentionInDays"])
            )
        self._created(logical_id, name, Arn=self._arn("logs", f"log-group:{name}:*"))

    def _alarm(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("AlarmName") or f"{self.stack_name}-{logical_id}"
        request = {k: v for k, v in props.items() if k != "AlarmName"}
        request["AlarmName"] = name
        # Parameters reach properties as strings; the API wants numbers.
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in request:
                request[key] = int(request[key])
        if "Threshold" in request:
            request["Threshold"] = float(request["Threshold"])
        self._client("cloudwatch").put_metric_alarm(**request)
        self._created(logical_id, name, Arn=self._arn("cloudwatch", f"alarm:{name}"))

    def _event_rule(self, logical_id: str, props: dict[str, Any]) -> None:
        events = self._client("events")
        name = props.get("Name") or f"{self.stack_name}-{logical_id}"[:64]
        bus = props.get("EventBusName", "default")
        request: dict[str, Any] = {
            "Name": name,
            "EventBusName": bus,
            "State": props.get("State", "ENABLED"),
        }
        if "EventPattern" in props:
            request["EventPattern"] = json.dumps(props["EventPattern"])
        if "ScheduleExpression" in props:
            request["ScheduleExpression"] = props["ScheduleExpression"]
        if "Description" in props:
            request["Description"] = props["Description"]
        arn = events.put_rule(**request)["RuleArn"]
        targets = [
            {
                k: v
                for k, v in target.items()
                if k in {"Id", "Arn", "Input", "InputPath", "SqsParameters"}
            }
            for target in props.get("Targets", [])
        ]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        self._created(logical_id, name, Arn=arn)

    # ------------------------------------------------------------ KMS, Cognito
    def _kms_key(self, logical_id: str, props: dict[str, Any]) -> None:
        kms = self._client("kms")
        request: dict[str, Any] = {"Description": str(props.get("Description", logical_id))}
        if "KeyPolicy" in props:
            request["Policy"] = json.dumps(props["KeyPolicy"])
        metadata = kms.create_key(**request)["KeyMetadata"]
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=metadata["KeyId"])
        self.stack.not_emulated[logical_id] = (
            "AWS::KMS::Key: created, but the local topics and log groups store plaintext"
        )
        self._created(logical_id, metadata["KeyId"], Arn=metadata["Arn"], KeyId=metadata["KeyId"])

    def _user_pool(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("UserPoolName") or f"{self.stack_name}-{logical_id}"
        pool = self._client("cognito-idp").create_user_pool(PoolName=name)["UserPool"]
        self.stack.not_emulated[logical_id] = (
            "AWS::Cognito::UserPool: created with its users and app clients, without its "
            "password policy, MFA or e-mail verification; sign-up is not offered locally"
        )
        provider = f"cognito-idp.{self.region}.amazonaws.com/{pool['Id']}"
        self._created(
            logical_id,
            pool["Id"],
            Arn=pool["Arn"],
            ProviderName=provider,
            ProviderURL=f"https://{provider}",
            UserPoolId=pool["Id"],
        )

    def _user_pool_client(self, logical_id: str, props: dict[str, Any]) -> None:
        client = self._client("cognito-idp").create_user_pool_client(
            UserPoolId=props["UserPoolId"],
            ClientName=props.get("ClientName") or f"{self.stack_name}-{logical_id}",
            GenerateSecret=bool(props.get("GenerateSecret", False)),
        )["UserPoolClient"]
        self._created(
            logical_id, client["ClientId"], ClientId=client["ClientId"], Name=client["ClientName"]
        )

    # ------------------------------------------------------------ API Gateway
    def _rest_api(self, logical_id: str, props: dict[str, Any]) -> None:
        api_id = re.sub(r"[^a-z0-9]", "", logical_id.lower())[:10]
        api = ApiDefinition(api_id=api_id, logical_id=logical_id)
        body = props.get("Body", {})
        api.binary_media_types = [t.replace("~1", "/") for t in props.get("BinaryMediaTypes", [])]
        api.gateway_response_headers = _gateway_response_headers(body)
        for path, methods in body.get("paths", {}).items():
            for method, operation in methods.items():
                integration = operation.get("x-amazon-apigateway-integration", {})
                if integration.get("type") == "mock":
                    authorization = _authorization(operation, body)
                    mock = _mock_response(integration)
                    api.routes.append(
                        ApiRoute(api_id, method.upper(), path, "", authorization, mock)
                    )
                    continue
                if integration.get("type") != "aws_proxy":
                    continue
                # .../functions/arn:aws:lambda:<region>:<account>:function:<name>/invocations
                match = re.search(r"function:([^/:]+)", str(integration.get("uri", "")))
                function = match.group(1) if match else ""
                authorization = _authorization(operation, body)
                api.routes.append(ApiRoute(api_id, method.upper(), path, function, authorization))
        self.stack.apis[logical_id] = api
        self._created(logical_id, api_id, RootResourceId=f"{api_id}-root")

    def _api_stage(self, logical_id: str, props: dict[str, Any]) -> None:
        for api in self.stack.apis.values():
            if api.api_id == props.get("RestApiId"):
                api.stage = str(props.get("StageName", ""))
        self._created(logical_id, str(props.get("StageName", logical_id)))


def _authorization(operation: dict[str, Any], body: dict[str, Any]) -> str:
    """The method's authorization type, from its OpenAPI ``security`` and the definitions."""
    security = operation.get("security", body.get("security", []))
    definitions = body.get("securityDefinitions", {})
    for requirement in security:
        for name in requirement:
            definition = definitions.get(name, {})
            kind = str(definition.get("x-amazon-apigateway-authtype", "")).lower()
            if kind == "awssigv4":
                return "AWS_IAM"
            if kind == "cognito_user_pools":
                return "COGNITO_USER_POOLS"
            if definition:
                raise ValueError(f"authorizer {name}: {kind or 'custom'} is not emulated locally")
    return "NONE"


def _mock_response(integration: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    """What a MOCK integration's default response sends: the status, the headers its
    responseParameters map to static values ('quoted'), the JSON response template."""
    default = integration.get("responses", {}).get("default", {})
    prefix = "method.response.header."
    headers = {
        name[len(prefix) :]: str(value).strip("'")
        for name, value in default.get("responseParameters", {}).items()
        if name.startswith(prefix) and str(value).startswith("'")
    }
    body = default.get("responseTemplates", {}).get("application/json", "")
    return int(default.get("statusCode", 200)), headers, str(body)


def _gateway_response_headers(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Gateway response type -> headers, with API Gateway's quotes around static values removed."""
    prefix = "gatewayresponse.header."
    headers: dict[str, dict[str, str]] = {}
    for kind, response in body.get("x-amazon-apigateway-gateway-responses", {}).items():
        for key, value in response.get("responseParameters", {}).items():
            if key.startswith(prefix):
                headers.setdefault(kind, {})[key[len(prefix) :]] = str(value).strip("'")
    return headers


def _s3_notifications(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration, in the shape of the S3 API."""
    converted: dict[str, Any] = {}
    kinds = {
        "QueueConfigurations": ("Queue", "QueueArn"),
        "TopicConfigurations": ("Topic", "TopicArn"),
        "LambdaConfigurations": ("Function", "LambdaFunctionArn"),
    }
    for kind, (target, api_target) in kinds.items():
        entries = []
        for entry in config.get(kind, []):
            item: dict[str, Any] = {api_target: entry[target], "Events": [entry["Event"]]}
            rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            if rules:
                item["Filter"] = {
                    "Key": {
                        "FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]
                    }
                }
            entries.append(item)
        if entries:
            converted[kind] = entries
    return converted


def _logging_configuration(logging: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's LoggingConfiguration of a state machine, as the API takes it."""
    configuration: dict[str, Any] = {
        "level": logging.get("Level", "OFF"),
        "includeExecutionData": bool(logging.get("IncludeExecutionData", False)),
    }
    destinations = [
        {"cloudWatchLogsLogGroup": {"logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
        for d in logging.get("Destinations", [])
        if "CloudWatchLogsLogGroup" in d
    ]
    if destinations:
        configuration["destinations"] = destinations
    return configuration


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()
