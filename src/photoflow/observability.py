"""Logger, Tracer and Metrics shared by every function (one instance each per cold start)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
