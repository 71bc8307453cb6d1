"""PhotoFlow's shared core: imaging, domain models, configuration and AWS access.

Every Lambda function imports this package (shipped as a layer); nothing in it
knows whether it runs on AWS or on the local stack.
"""
