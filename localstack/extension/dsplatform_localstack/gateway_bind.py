"""Bind the gateway to the GATEWAY_LISTEN address: the pinned runtime listens on every IPv4 interface.

A laptop's LocalStack (no auth, any account) must not be reachable from the network when the user asked
for 127.0.0.1. This is the runtime's own register() with the interface passed (its code has a TODO for it).
"""

from __future__ import annotations


def install() -> None:
    """Replace TwistedRuntimeServer.register with one that listens on the configured host only."""
    from localstack.aws.serving.twisted import TLSMultiplexerFactory
    from localstack.runtime.server.twisted import TwistedRuntimeServer
    from rolo.serving.twisted import TwistedGateway
    from twisted.internet import endpoints, reactor, ssl

    from localstack import config

    def register(self, gateway, listen, ssl_creds=None):  # type: ignore[no-untyped-def]
        site = TwistedGateway(gateway)
        if ssl_creds:
            cert_file_name, key_file_name = ssl_creds
            context_factory = ssl.DefaultOpenSSLContextFactory(key_file_name, cert_file_name)
            context_factory.getContext().use_certificate_chain_file(cert_file_name)
            protocol_factory = TLSMultiplexerFactory(context_factory, False, site)
        else:
            protocol_factory = site
        for host_and_port in listen:
            if config.is_ipv6_address(host_and_port.host):
                endpoint = endpoints.TCP6ServerEndpoint(reactor, host_and_port.port, interface=host_and_port.host)
            else:
                endpoint = endpoints.TCP4ServerEndpoint(
                    reactor, host_and_port.port, interface=host_and_port.host or "0.0.0.0"
                )
            endpoint.listen(protocol_factory)

    TwistedRuntimeServer.register = register
