"""CloudFormation intrinsics as the local deployer resolves them."""

import pytest

from photoflow_local.intrinsics import Resolver, UnresolvedReference, references


def make_resolver(conditions: dict | None = None) -> Resolver:
    refs = {"Stage": "dev", "AWS::Region": "eu-west-1", "Bucket": "photos-bucket"}
    atts = {("Queue", "Arn"): "arn:aws:sqs:eu-west-1:123:q"}

    def ref(name: str) -> str:
        if name not in refs:
            raise UnresolvedReference(name)
        return refs[name]

    return Resolver(ref, lambda lid, att: atts[(lid, att)], conditions or {})


def test_sub_join_getatt_and_nested_values() -> None:
    resolver = make_resolver()
    value = {
        "Name": {"Fn::Sub": "photoflow-${Stage}-${AWS::Region}"},
        "Arn": {"Fn::GetAtt": ["Queue", "Arn"]},
        "Dotted": {"Fn::Sub": "${Queue.Arn}/x"},
        "Joined": {"Fn::Join": [":", ["a", {"Ref": "Stage"}]]},
        "Vars": {"Fn::Sub": ["${A}-${Bucket}", {"A": {"Ref": "Stage"}}]},
        "Escaped": {"Fn::Sub": "${!Literal}"},
        "List": [{"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}],
    }
    assert resolver.resolve(value) == {
        "Name": "photoflow-dev-eu-west-1",
        "Arn": "arn:aws:sqs:eu-west-1:123:q",
        "Dotted": "arn:aws:sqs:eu-west-1:123:q/x",
        "Joined": "a:dev",
        "Vars": "dev-photos-bucket",
        "Escaped": "${Literal}",
        "List": ["y"],
    }


def test_conditions_and_no_value() -> None:
    resolver = make_resolver(
        {
            "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
            "IsProd": {"Fn::Not": [{"Condition": "IsDev"}]},
        }
    )
    value = {
        "A": {"Fn::If": ["IsDev", "yes", "no"]},
        "B": {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]},
        "C": [1, {"Fn::If": ["IsProd", 2, {"Ref": "AWS::NoValue"}]}],
    }
    assert resolver.resolve(value) == {"A": "yes", "C": [1]}


def test_unknown_reference_is_an_error() -> None:
    with pytest.raises(UnresolvedReference):
        make_resolver().resolve({"Ref": "Missing"})


def test_references_finds_dependencies_through_every_intrinsic() -> None:
    value = {
        "a": {"Ref": "Bucket"},
        "b": {"Fn::GetAtt": "Queue.Arn"},
        "c": {"Fn::Sub": "${Topic}-${Table.Arn}-${AWS::Region}"},
        "d": {"Fn::Sub": ["${X}", {"X": {"Ref": "Role"}}]},
    }
    assert references(value) == {"Bucket", "Queue", "Topic", "Table", "Role"}
