"""PhotoFlow's offline local stack: local AWS (moto), the template deployed into it,
the Lambda functions in sandbox processes of their own, a local API front end, and the command line.

A developer tool: it is not shipped to AWS.
"""
