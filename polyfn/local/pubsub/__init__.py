"""A Pub/Sub emulator speaking the gRPC API google-cloud-pubsub uses (PUBSUB_EMULATOR_HOST).

Imported only when started: it needs grpcio and google-cloud-pubsub's protos
(``polyfn[gcp]``), which the core never imports.
"""
