"""evolv's Python client: the gRPC stubs generated from proto/ (evolv.v1) and a thin layer over
them for studies whose trials the client evaluates (evolv.study)."""
