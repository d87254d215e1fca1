//! Who the client is: the socket peer, unless the peer is a trusted proxy, in which case the
//! nearest untrusted address in `X-Forwarded-For`. With no trusted proxies configured the
//! header is ignored entirely, so a client cannot pick its own address (and dodge rate limits)
//! by sending one.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderMap;
use ipnet::IpNet;

use crate::Sigra;

/// The client address this request is attributed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Resolves the client address from the peer and the trusted proxies. Addresses are
/// canonical (an IPv4 client of a server bound to `[::]` arrives as `::ffff:a.b.c.d` and is
/// read as `a.b.c.d`), so rate-limit buckets and proxy ranges see the real family.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|value| value.to_str().ok())
        .flat_map(|value| value.unwrap_or("").split(',').map(str::trim))
        .collect::<Vec<_>>();
    // Walk back from the proxy nearest to us; the first hop we do not trust is the client. An
    // entry that does not parse ends the walk: what lies beyond it was written by someone we
    // cannot vouch for, so the last trusted hop is the best we know.
    for hop in hops.into_iter().rev() {
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: `ip`, `ip:port` or `[ipv6]:port`, canonical.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|socket| socket.ip()))?;
    Some(ip.to_canonical())
}

/// Axum middleware: stores [`ClientIp`] for the extractors and the rate limits.
pub async fn resolve_client_ip(
    State(sigra): State<Sigra>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    {
        let ip = client_ip(
            peer.ip(),
            request.headers(),
            &sigra.config().rate_limit.trusted_proxies,
        );
        request.extensions_mut().insert(ClientIp(ip));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(xff: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_str(xff).expect("ascii"),
        );
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(
            client_ip(ip("198.51.100.9"), &headers("1.2.3.4"), &[]),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let spoofed_then_real = headers("6.6.6.6, 203.0.113.5, 10.0.0.7");
        assert_eq!(
            client_ip(ip("10.0.0.1"), &spoofed_then_real, &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_ip(ip("192.0.2.1"), &spoofed_then_real, &trusted),
            ip("192.0.2.1"),
            "an untrusted peer's header means nothing"
        );
    }

    #[test]
    fn an_ipv4_client_of_a_dual_stack_socket_is_read_as_ipv4() {
        assert_eq!(
            client_ip(ip("::ffff:198.51.100.9"), &HeaderMap::new(), &[]),
            ip("198.51.100.9")
        );
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        assert_eq!(
            client_ip(
                ip("::ffff:10.0.0.1"),
                &headers("::ffff:203.0.113.5"),
                &trusted
            ),
            ip("203.0.113.5"),
            "an IPv4 proxy range matches a mapped peer, and the hop is canonical too"
        );
    }

    #[test]
    fn hops_with_ports_are_read_and_a_garbled_hop_ends_the_walk() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers("203.0.113.5:4711"), &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers("[2001:db8::7]:443"), &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_ip(
                ip("10.0.0.1"),
                &headers("6.6.6.6, not-an-address, 10.0.0.7"),
                &trusted
            ),
            ip("10.0.0.7"),
            "the forged entry behind the garbage never becomes the client"
        );
    }
}
