def register(router) -> None:
    """This app's API resources are registered here."""
