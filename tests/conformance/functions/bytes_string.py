def handler(event, context):
    # Bytes go back as they are (the runtime does not encode them): a JSON string here.
    return b'"HelloWorld!"'
