"""Raises an exception of its own class, without a message (its errorMessage is empty)."""


class CustomException(Exception):
    """Named by the Catch of the state machines that call this function."""


def handler(event, context):
    raise CustomException()
