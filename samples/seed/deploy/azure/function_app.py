from polyfn.adapters.azure import function_app

app = function_app("samples.seed.app:app")
