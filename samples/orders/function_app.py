"""The orders app on Azure Functions: the Python worker indexes the FunctionApp ``app``.
Deploy it with the host.json of ``polyfn.adapters.azure.host_json(samples.orders.app.app)``."""

from polyfn.adapters.azure import function_app

app = function_app("samples.orders.app:app")
