//! Socket addresses for cosockets: IP literals and unix socket paths as the
//! raw `struct sockaddr` bytes nginx's connect code takes.

use std::net::{IpAddr, SocketAddr};

use nginx_sys::{
    sockaddr, sockaddr_in, sockaddr_in6, sockaddr_un, socklen_t, AF_INET, AF_INET6, AF_UNIX,
};

/// An owned `struct sockaddr_*` (8-byte aligned storage).
#[derive(Clone)]
pub struct SockAddr {
    storage: Box<[u64; 16]>,
    len: usize,
    /// "127.0.0.1:80", "[::1]:80" or "unix:/path": for logs.
    pub text: String,
}

impl SockAddr {
    pub fn from_ip(ip: IpAddr, port: u16) -> SockAddr {
        let mut storage = Box::new([0u64; 16]);
        let text = SocketAddr::new(ip, port).to_string();
        let len = match ip {
            IpAddr::V4(v4) => {
                // SAFETY: storage is 128 zeroed, 8-aligned bytes, larger than sockaddr_in.
                let sin = unsafe { &mut *(storage.as_mut_ptr() as *mut sockaddr_in) };
                sin.sin_family = AF_INET as _;
                sin.sin_port = port.to_be();
                sin.sin_addr.s_addr = u32::from_ne_bytes(v4.octets());
                std::mem::size_of::<sockaddr_in>()
            }
            IpAddr::V6(v6) => {
                // SAFETY: as above; sockaddr_in6 is 28 bytes.
                let sin6 = unsafe { &mut *(storage.as_mut_ptr() as *mut sockaddr_in6) };
                sin6.sin6_family = AF_INET6 as _;
                sin6.sin6_port = port.to_be();
                // SAFETY: in6_addr is 16 bytes of address in network order.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        v6.octets().as_ptr(),
                        std::ptr::addr_of_mut!(sin6.sin6_addr) as *mut u8,
                        16,
                    )
                };
                std::mem::size_of::<sockaddr_in6>()
            }
        };
        SockAddr { storage, len, text }
    }

    /// A unix socket path (without the "unix:" prefix); None when too long.
    pub fn unix(path: &[u8]) -> Option<SockAddr> {
        let mut storage = Box::new([0u64; 16]);
        // SAFETY: storage is 128 zeroed, 8-aligned bytes; sockaddr_un is 110.
        let sun = unsafe { &mut *(storage.as_mut_ptr() as *mut sockaddr_un) };
        if path.is_empty() || path.len() >= sun.sun_path.len() {
            return None;
        }
        sun.sun_family = AF_UNIX as _;
        for (d, s) in sun.sun_path.iter_mut().zip(path) {
            *d = *s as _;
        }
        let len = std::mem::size_of::<sockaddr_un>();
        Some(SockAddr {
            storage,
            len,
            text: format!("unix:{}", String::from_utf8_lossy(path)),
        })
    }

    /// Copies a resolver result, setting its port.
    ///
    /// # Safety
    /// `sa` must point to `len` readable bytes of a sockaddr_in or sockaddr_in6.
    pub unsafe fn from_raw(sa: *const sockaddr, len: socklen_t, port: u16) -> Option<SockAddr> {
        let len = len as usize;
        if sa.is_null() || len > 128 {
            return None;
        }
        // SAFETY: guaranteed by the caller.
        let family = unsafe { (*sa).sa_family } as u32;
        let ip = if family == AF_INET {
            // SAFETY: an AF_INET address is a sockaddr_in.
            let sin = unsafe { &*(sa as *const sockaddr_in) };
            IpAddr::from(u32::from_be(sin.sin_addr.s_addr).to_be_bytes())
        } else if family == AF_INET6 {
            // SAFETY: an AF_INET6 address is a sockaddr_in6.
            let b = unsafe {
                *(std::ptr::addr_of!((*(sa as *const sockaddr_in6)).sin6_addr) as *const [u8; 16])
            };
            IpAddr::from(b)
        } else {
            return None;
        };
        Some(SockAddr::from_ip(ip, port))
    }

    pub fn as_ptr(&self) -> *mut sockaddr {
        self.storage.as_ptr() as *mut sockaddr
    }

    pub fn len(&self) -> socklen_t {
        self.len as socklen_t
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
