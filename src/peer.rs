//! Which local process opened a loopback connection, so that `harness exec` judges one client
//! per process instead of one per `User-Agent`: a client may send several (the JavaScript
//! client sends its LISTs as `kubernetes-client-javascript/…` and its watches through undici as
//! `undici`), and two processes may send the same one.
//!
//! Linux only, from procfs: `/proc/net/tcp{,6}` maps the connection's two addresses to the
//! client socket's inode (proc(5)), and the process that holds `socket:[inode]` among its
//! `/proc/PID/fd` links owns it. Elsewhere, or when the process is gone or not ours to read,
//! the answer is `None` and the client is told apart by its `User-Agent`.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// The process that holds the client end of the connection from `client` to `server`, both on
/// this machine.
#[must_use]
pub(crate) fn owner(server: SocketAddr, client: SocketAddr) -> Option<u32> {
    owner_in(Path::new("/proc"), server, client)
}

fn owner_in(proc: &Path, server: SocketAddr, client: SocketAddr) -> Option<u32> {
    let table = match client.ip() {
        IpAddr::V4(_) => "net/tcp",
        IpAddr::V6(_) => "net/tcp6",
    };
    let text = std::fs::read_to_string(proc.join(table)).ok()?;
    let inode = inode_of(&text, client, server)?;
    holder(proc, inode)
}

/// The inode of the socket whose local address is `local` and remote one `remote`, from the
/// text of `/proc/net/tcp` or `tcp6`.
fn inode_of(table: &str, local: SocketAddr, remote: SocketAddr) -> Option<u64> {
    let (local, remote) = (hex(local), hex(remote));
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let matches =
            fields.get(1) == Some(&local.as_str()) && fields.get(2) == Some(&remote.as_str());
        matches.then(|| fields.get(9)?.parse().ok()).flatten()
    })
}

/// An address as procfs writes it: the address's 32-bit words in host order, in hex, then
/// the port in hex.
fn hex(address: SocketAddr) -> String {
    let ip = match address.ip() {
        IpAddr::V4(v4) => format!("{:08X}", u32::from_ne_bytes(v4.octets())),
        IpAddr::V6(v6) => v6
            .octets()
            .chunks_exact(4)
            .map(|word| {
                let word: [u8; 4] = word.try_into().expect("chunks of four");
                format!("{:08X}", u32::from_ne_bytes(word))
            })
            .collect(),
    };
    format!("{ip}:{:04X}", address.port())
}

/// The lowest pid holding `socket:[inode]` open.
fn holder(proc: &Path, inode: u64) -> Option<u32> {
    let wanted = format!("socket:[{inode}]");
    let mut pids: Vec<u32> = std::fs::read_dir(proc)
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.into_iter().find(|pid| {
        std::fs::read_dir(proc.join(pid.to_string()).join("fd")).is_ok_and(|fds| {
            fds.filter_map(Result::ok).any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|target| target.as_os_str() == &*wanted)
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_written_as_procfs_writes_it() {
        let loopback: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(hex(loopback), "0100007F:1F90");
        }
        let v6: SocketAddr = "[::1]:443".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(hex(v6), "00000000000000000000000001000000:01BB");
        }
    }

    #[test]
    fn the_socket_is_found_by_its_two_addresses() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0\n   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 20 4 30 10 -1\n";
        let client: SocketAddr = format!("127.0.0.1:{}", 0xD431).parse().unwrap();
        let server: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(inode_of(table, client, server), Some(222));
            assert_eq!(inode_of(table, server, client), None);
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_connection_of_this_process_is_owned_by_this_process() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        let stream = std::net::TcpStream::connect(server).unwrap();
        let client = stream.local_addr().unwrap();
        let _accepted = listener.accept().unwrap();
        assert_eq!(owner(server, client), Some(std::process::id()));
    }
}
