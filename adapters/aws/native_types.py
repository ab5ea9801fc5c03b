"""Typed shapes of the native AWS payloads, for editors and type checkers.

Each AWS view's ``.native`` (and each source module's ``to_native`` / ``response`` /
``batch_response``) is annotated with one of these, so that an editor completes
``msg.native["Sns"]["TopicArn"]`` on an ``SnsMessage``. They follow AWS's documentation
and its published sample events (tests/events/aws/, checked against these types by
tests/unit/test_native_types.py); nothing validates a payload against them at run time.

Import cost: the source modules import this module only under ``typing.TYPE_CHECKING``,
so it is never loaded on a cold start.

No ``from __future__ import annotations`` here: under Python 3.11, string annotations
hide ``NotRequired`` from ``__required_keys__`` / ``__optional_keys__``. Keys that are
not identifiers (``detail-type``, ``x-amz-request-id``) or are keywords (``lambda``) need
the functional ``TypedDict("Name", {...})`` syntax.
"""

from typing import Any, Literal, NotRequired, TypeAlias, TypedDict

# -- shared ----------------------------------------------------------------------------


class BatchItemFailure(TypedDict):
    """One failed record of a partial-batch response."""

    itemIdentifier: str


class SQSBatchResponse(TypedDict):
    """Lambda's partial-batch response (``ReportBatchItemFailures``).

    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    """

    batchItemFailures: list[BatchItemFailure]


# Kinesis and DynamoDB Streams answer with the same shape; the identifier is the failed
# record's sequence number.
# https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
StreamBatchResponse: TypeAlias = SQSBatchResponse


# -- SQS -------------------------------------------------------------------------------


class SQSMessageAttribute(TypedDict):
    """A message attribute of an SQS record; binary values are base64.

    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_MessageAttributeValue.html
    """

    dataType: str
    stringValue: NotRequired[str | None]
    binaryValue: NotRequired[str | None]
    stringListValues: NotRequired[list[str]]
    binaryListValues: NotRequired[list[str]]


class SQSRecordAttributes(TypedDict):
    """The system ``attributes`` of an SQS record (timestamps are epoch milliseconds,
    as strings). The last five appear only for FIFO queues, redriven messages or traced
    senders.

    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
    """

    ApproximateReceiveCount: str
    SentTimestamp: str
    SenderId: str
    ApproximateFirstReceiveTimestamp: str
    SequenceNumber: NotRequired[str]
    MessageGroupId: NotRequired[str]
    MessageDeduplicationId: NotRequired[str]
    DeadLetterQueueSourceArn: NotRequired[str]
    AWSTraceHeader: NotRequired[str]


class SQSRecord(TypedDict):
    """One record of an SQS event.

    https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
    """

    messageId: str
    receiptHandle: str
    body: str
    attributes: SQSRecordAttributes
    messageAttributes: dict[str, SQSMessageAttribute]
    md5OfBody: str
    md5OfMessageAttributes: NotRequired[str | None]
    eventSource: Literal["aws:sqs"]
    eventSourceARN: str
    awsRegion: str


class SQSEvent(TypedDict):
    """An SQS invocation: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html"""

    Records: list[SQSRecord]


# -- SNS -------------------------------------------------------------------------------


class SNSMessageAttribute(TypedDict):
    """``Type`` is String, String.Array, Number or Binary (base64 ``Value``).

    https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
    """

    Type: str
    Value: str


class SNSMessage(TypedDict):
    """The ``Sns`` part of an SNS record (note ``SigningCertUrl``, not ``...URL``).

    https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
    """

    SignatureVersion: str
    Timestamp: str
    Signature: str
    SigningCertUrl: str
    MessageId: str
    Message: str
    MessageAttributes: dict[str, SNSMessageAttribute]
    Type: str
    UnsubscribeUrl: str
    TopicArn: str
    Subject: str | None


class SNSRecord(TypedDict):
    """One record of an SNS event: https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html"""

    EventVersion: str
    EventSubscriptionArn: str
    EventSource: Literal["aws:sns"]
    Sns: SNSMessage


class SNSEvent(TypedDict):
    """An SNS invocation: https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html"""

    Records: list[SNSRecord]


# -- S3 (event notifications) ----------------------------------------------------------
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html


class S3UserIdentity(TypedDict):
    """``userIdentity`` of a record, and ``ownerIdentity`` of its bucket."""

    principalId: str


class S3RequestParameters(TypedDict):
    sourceIPAddress: str


S3ResponseElements = TypedDict("S3ResponseElements", {"x-amz-request-id": str, "x-amz-id-2": str})


class S3Bucket(TypedDict):
    name: str
    ownerIdentity: S3UserIdentity
    arn: str


class S3Object(TypedDict):
    """The object of an S3 record. ``key`` is URL-encoded (spaces as ``+``); deletions
    carry no ``size`` or ``eTag``; ``versionId`` only in versioned buckets."""

    key: str
    size: NotRequired[int]
    eTag: NotRequired[str]
    versionId: NotRequired[str]
    sequencer: str
    # Not an AWS field: Powertools' s3EventDecodedKey sample adds it (tests/events/aws).
    urlDecodedKey: NotRequired[str]


class S3Entity(TypedDict):
    """The ``s3`` part of an S3 record."""

    s3SchemaVersion: str
    configurationId: str
    bucket: S3Bucket
    object: S3Object


class S3EventRecord(TypedDict):
    """One record of an S3 event notification. The ``...EventData`` parts appear only for
    restore, Intelligent-Tiering and lifecycle events.

    https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
    """

    eventVersion: str
    eventSource: Literal["aws:s3"]
    awsRegion: str
    eventTime: str
    eventName: str
    userIdentity: S3UserIdentity
    requestParameters: S3RequestParameters
    responseElements: S3ResponseElements
    s3: S3Entity
    glacierEventData: NotRequired[dict[str, Any]]
    intelligentTieringEventData: NotRequired[dict[str, Any]]
    lifecycleEventData: NotRequired[dict[str, Any]]


class S3Event(TypedDict):
    """An S3 notification invocation: https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html"""

    Records: list[S3EventRecord]


# -- EventBridge -----------------------------------------------------------------------

EventBridgeEvent = TypedDict(
    "EventBridgeEvent",
    {
        "version": str,
        "id": str,
        "detail-type": str,
        "source": str,
        "account": str,
        "time": str,
        "region": str,
        "resources": list[str],
        "detail": Any,
        # Only on events replayed from an archive.
        "replay-name": NotRequired[str],
    },
)
EventBridgeEvent.__doc__ = """An EventBridge event; ``detail`` is the source's own JSON.

https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
"""

ScheduledEvent = TypedDict(
    "ScheduledEvent",
    {
        # Absent from some of AWS's own samples (lambda-dotnet's scheduled-event.json).
        "version": NotRequired[str],
        "id": str,
        "detail-type": Literal["Scheduled Event"],
        "source": str,
        "account": str,
        "time": str,
        "region": str,
        "resources": list[str],
        "detail": dict[str, Any],
    },
)
ScheduledEvent.__doc__ = """A scheduled rule's event (``source`` aws.events or aws.scheduler).

https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
"""


# -- S3 via EventBridge ----------------------------------------------------------------
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html


class S3EventBridgeBucket(TypedDict):
    name: str


S3EventBridgeObject = TypedDict(
    "S3EventBridgeObject",
    {
        # Unlike S3 notifications, the key is not URL-encoded.
        "key": str,
        "size": NotRequired[int],
        "etag": NotRequired[str],
        "version-id": NotRequired[str],
        "sequencer": str,
    },
)

S3EventBridgeDetail = TypedDict(
    "S3EventBridgeDetail",
    {
        "version": str,
        "bucket": S3EventBridgeBucket,
        "object": S3EventBridgeObject,
        "request-id": str,
        "requester": str,
        # The rest depend on the detail-type (creation, deletion, restore, tiering...).
        "source-ip-address": NotRequired[str],
        "reason": NotRequired[str],
        "deletion-type": NotRequired[str],
        "restore-expiry-time": NotRequired[str],
        "source-storage-class": NotRequired[str],
        "destination-storage-class": NotRequired[str],
        "destination-access-tier": NotRequired[str],
    },
)

S3EventBridgeEvent = TypedDict(
    "S3EventBridgeEvent",
    {
        "version": str,
        "id": str,
        "detail-type": str,
        "source": Literal["aws.s3"],
        "account": str,
        "time": str,
        "region": str,
        "resources": list[str],
        "detail": S3EventBridgeDetail,
        "replay-name": NotRequired[str],
    },
)
S3EventBridgeEvent.__doc__ = """An S3 event delivered by EventBridge.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
"""


# -- DynamoDB Streams ------------------------------------------------------------------

# One attribute in DynamoDB JSON, e.g. {"S": "text"} or {"N": "42"}.
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html
AttributeValue: TypeAlias = dict[str, Any]


class DynamoDBStreamRecordData(TypedDict):
    """The ``dynamodb`` part of a stream record (the Streams API's StreamRecord).

    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_StreamRecord.html
    """

    ApproximateCreationDateTime: NotRequired[int | float]
    Keys: dict[str, AttributeValue]
    NewImage: NotRequired[dict[str, AttributeValue]]
    OldImage: NotRequired[dict[str, AttributeValue]]
    SequenceNumber: str
    SizeBytes: int
    StreamViewType: Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


class DynamoDBUserIdentity(TypedDict):
    """Who made the change; present only for deletions by Time to Live."""

    type: str
    principalId: str


class DynamoDBStreamRecord(TypedDict):
    """One record of a DynamoDB Streams event.

    https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
    """

    eventID: str
    eventName: Literal["INSERT", "MODIFY", "REMOVE"]
    eventVersion: str
    eventSource: Literal["aws:dynamodb"]
    awsRegion: str
    dynamodb: DynamoDBStreamRecordData
    eventSourceARN: str
    userIdentity: NotRequired[DynamoDBUserIdentity]


class DynamoDBStreamEvent(TypedDict):
    """A DynamoDB Streams invocation: https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html"""

    Records: list[DynamoDBStreamRecord]


# -- Kinesis Data Streams --------------------------------------------------------------


class KinesisStreamRecordData(TypedDict):
    """The ``kinesis`` part of a record: ``data`` is base64, the arrival time epoch seconds.

    https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
    """

    kinesisSchemaVersion: str
    partitionKey: str
    sequenceNumber: str
    data: str
    approximateArrivalTimestamp: float
    encryptionType: NotRequired[str]


class KinesisStreamRecord(TypedDict):
    """One record of a Kinesis event: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html"""

    kinesis: KinesisStreamRecordData
    eventSource: Literal["aws:kinesis"]
    eventVersion: str
    eventID: str
    eventName: str
    invokeIdentityArn: str
    awsRegion: str
    eventSourceARN: str


class KinesisStreamEvent(TypedDict):
    """A Kinesis invocation: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html"""

    Records: list[KinesisStreamRecord]


# -- API Gateway REST API (payload 1.0) ------------------------------------------------
# https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html


class APIGatewayClientCertValidity(TypedDict):
    notBefore: str
    notAfter: str


class APIGatewayClientCert(TypedDict):
    """The client certificate of a mutual-TLS request."""

    clientCertPem: str
    subjectDN: str
    issuerDN: str
    serialNumber: str
    validity: APIGatewayClientCertValidity


class APIGatewayRequestIdentity(TypedDict):
    """``requestContext.identity`` of a REST API event; most values are null unless an
    IAM, Cognito or API-key caller made the request."""

    accessKey: str | None
    accountId: str | None
    caller: str | None
    cognitoAuthenticationProvider: str | None
    cognitoAuthenticationType: str | None
    cognitoIdentityId: str | None
    cognitoIdentityPoolId: str | None
    sourceIp: str
    user: str | None
    userAgent: str | None
    userArn: str | None
    apiKey: NotRequired[str | None]
    apiKeyId: NotRequired[str | None]
    principalOrgId: NotRequired[str | None]
    clientCert: NotRequired[APIGatewayClientCert | None]
    vpcId: NotRequired[str]
    vpceId: NotRequired[str]


class APIGatewayProxyRequestContext(TypedDict):
    """``requestContext`` of a REST API event. ``authorizer`` holds what the authorizer
    returned (Cognito ``claims``, a Lambda authorizer's ``principalId`` and context...)."""

    accountId: str
    apiId: str
    resourceId: str | None
    resourcePath: str
    httpMethod: str
    path: str
    protocol: str
    stage: str
    requestId: str
    requestTime: str
    requestTimeEpoch: int
    identity: APIGatewayRequestIdentity
    authorizer: NotRequired[dict[str, Any] | None]
    domainName: NotRequired[str]
    domainPrefix: NotRequired[str]
    extendedRequestId: NotRequired[str]
    deploymentId: NotRequired[str]
    operationName: NotRequired[str]


class APIGatewayProxyEvent(TypedDict):
    """A REST API (payload format 1.0) proxy event.

    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
    """

    version: NotRequired[str]
    resource: str
    path: str
    httpMethod: str
    headers: dict[str, str] | None
    multiValueHeaders: dict[str, list[str]] | None
    queryStringParameters: dict[str, str] | None
    multiValueQueryStringParameters: dict[str, list[str]] | None
    pathParameters: dict[str, str] | None
    stageVariables: dict[str, str] | None
    requestContext: APIGatewayProxyRequestContext
    body: str | None
    isBase64Encoded: NotRequired[bool]


class APIGatewayProxyResult(TypedDict):
    """A REST API (payload format 1.0) response.

    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format
    """

    statusCode: int
    headers: NotRequired[dict[str, str]]
    multiValueHeaders: NotRequired[dict[str, list[str]]]
    body: NotRequired[str]
    isBase64Encoded: NotRequired[bool]


# -- API Gateway HTTP API (payload 2.0) and Function URLs ------------------------------
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html


class APIGatewayEventRequestContextHttp(TypedDict):
    method: str
    path: str
    protocol: str
    sourceIp: str
    userAgent: str


class APIGatewayAuthentication(TypedDict):
    clientCert: APIGatewayClientCert


class APIGatewayJwtAuthorizer(TypedDict):
    claims: dict[str, Any]
    scopes: list[str] | None


class APIGatewayCognitoIdentity(TypedDict):
    amr: list[str]
    identityId: str
    identityPoolId: str


class APIGatewayIamAuthorizer(TypedDict):
    accessKey: str
    accountId: str
    callerId: str
    cognitoIdentity: NotRequired[APIGatewayCognitoIdentity | None]
    principalOrgId: NotRequired[str | None]
    userArn: str
    userId: str


# One key, by authorizer kind; "lambda" (a keyword, hence the functional syntax) holds a
# Lambda authorizer's context.
APIGatewayAuthorizerV2 = TypedDict(
    "APIGatewayAuthorizerV2",
    {"jwt": APIGatewayJwtAuthorizer, "iam": APIGatewayIamAuthorizer, "lambda": dict[str, Any]},
    total=False,
)


class APIGatewayProxyRequestContextV2(TypedDict):
    """``requestContext`` of a payload 2.0 event. Function URL samples may lack
    ``routeKey`` and ``stage``."""

    accountId: str
    apiId: str
    domainName: str
    domainPrefix: str
    http: APIGatewayEventRequestContextHttp
    requestId: str
    routeKey: NotRequired[str]
    stage: NotRequired[str]
    time: str
    timeEpoch: int
    authentication: NotRequired[APIGatewayAuthentication | None]
    authorizer: NotRequired[APIGatewayAuthorizerV2]


class APIGatewayProxyEventV2(TypedDict):
    """An HTTP API (payload format 2.0) event; also the shape of Function URL events.

    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.proxy-format
    """

    version: Literal["2.0"]
    routeKey: NotRequired[str]
    rawPath: str
    rawQueryString: str
    cookies: NotRequired[list[str]]
    headers: dict[str, str]
    queryStringParameters: NotRequired[dict[str, str]]
    # Function URLs send null for these two.
    pathParameters: NotRequired[dict[str, str] | None]
    stageVariables: NotRequired[dict[str, str] | None]
    requestContext: APIGatewayProxyRequestContextV2
    body: NotRequired[str]
    isBase64Encoded: bool


class APIGatewayProxyResultV2(TypedDict, total=False):
    """A payload 2.0 response (API Gateway also accepts any other JSON value, answered as
    a 200 JSON body).

    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.response
    """

    statusCode: int
    headers: dict[str, str]
    cookies: list[str]
    body: str
    isBase64Encoded: bool


# Function URLs use payload 2.0 both ways.
# https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
LambdaFunctionUrlEvent: TypeAlias = APIGatewayProxyEventV2
LambdaFunctionUrlResult: TypeAlias = APIGatewayProxyResultV2


# -- Application Load Balancer ---------------------------------------------------------


class ALBRequestContextElb(TypedDict):
    targetGroupArn: str


class ALBRequestContext(TypedDict):
    elb: ALBRequestContextElb


class ALBEvent(TypedDict):
    """An ALB target event: ``headers`` / ``queryStringParameters``, or their
    ``multiValue...`` forms when the target group enables multi-value headers. Query names
    and values arrive still URL-encoded.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
    """

    requestContext: ALBRequestContext
    httpMethod: str
    path: str
    headers: NotRequired[dict[str, str]]
    queryStringParameters: NotRequired[dict[str, str]]
    multiValueHeaders: NotRequired[dict[str, list[str]]]
    multiValueQueryStringParameters: NotRequired[dict[str, list[str]]]
    body: str
    isBase64Encoded: bool


class ALBResult(TypedDict):
    """An ALB target's response (``multiValueHeaders`` instead of ``headers`` when the
    target group enables them).

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html#respond-to-load-balancer
    """

    statusCode: int
    statusDescription: NotRequired[str]
    headers: NotRequired[dict[str, str]]
    multiValueHeaders: NotRequired[dict[str, list[str]]]
    body: NotRequired[str]
    isBase64Encoded: NotRequired[bool]
