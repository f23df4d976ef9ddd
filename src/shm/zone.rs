//! `lua_shared_dict <name> <size>`: one nginx shared memory zone per dict,
//! its slab pool as the store's allocator, its mutex around every operation,
//! and zone (re)initialisation across reloads.

use std::ffi::c_void;
use std::ptr::{self, null_mut};

use nginx_sys::{
    ngx_cycle_t, ngx_int_t, ngx_shared_memory_add, ngx_shm_zone_t, ngx_shmtx_lock,
    ngx_shmtx_unlock, ngx_slab_alloc_locked, ngx_slab_free_locked, ngx_slab_pool_t, ngx_str_t,
    NGX_ERROR, NGX_OK,
};

use super::store::{Alloc, Header, Store};
use crate::conf::MainConf;
use crate::ffi::conf::Conf;

const ZONE_MAGIC: u64 = u64::from_le_bytes(*b"LRSZONE1");

/// Our per-cycle handle on one dict zone (`shm_zone->data`), in the cycle
/// pool. Lua holds its address as the dict's lightuserdata.
#[repr(C)]
pub struct Zone {
    magic: u64,
    shpool: *mut ngx_slab_pool_t,
    hdr: *mut Header,
    shm_zone: *mut ngx_shm_zone_t,
    cycle: *mut ngx_cycle_t,
    main: *mut MainConf,
    name: Vec<u8>,
}

/// The zone's slab pool as the store's allocator (the caller holds the lock).
pub struct SlabAlloc(*mut ngx_slab_pool_t);

impl Alloc for SlabAlloc {
    fn alloc(&self, size: usize) -> *mut u8 {
        // SAFETY: the pool is the zone's live slab pool and the zone mutex is held.
        unsafe { ngx_slab_alloc_locked(self.0, size) as *mut u8 }
    }
    unsafe fn free(&self, p: *mut u8) {
        // SAFETY: p came from this pool (caller's contract); the mutex is held.
        unsafe { ngx_slab_free_locked(self.0, p as *mut c_void) }
    }
}

/// The zone's mutex, held until dropped.
struct Lock(*mut ngx_slab_pool_t);

impl Lock {
    fn new(pool: *mut ngx_slab_pool_t) -> Lock {
        // SAFETY: the pool of an initialised zone; its mutex was created by
        // ngx_init_zone_pool.
        unsafe { ngx_shmtx_lock(ptr::addr_of_mut!((*pool).mutex)) };
        Lock(pool)
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // SAFETY: we hold the mutex taken in `new`.
        unsafe { ngx_shmtx_unlock(ptr::addr_of_mut!((*self.0).mutex)) };
    }
}

/// Milliseconds since the epoch from nginx's cached clock.
pub fn now_ms() -> u64 {
    let t = crate::ffi::time::cached();
    (t.sec.max(0) as u64) * 1000 + t.msec
}

impl Zone {
    /// A zone pointer handed out to Lua, if it looks like one of ours and is
    /// initialised.
    ///
    /// # Safety
    /// `p` must be null or point at readable memory of at least a `Zone`
    /// (Lua code only ever gets pointers made by `install`).
    pub unsafe fn from_ptr<'a>(p: *const c_void) -> Option<&'a Zone> {
        let z = p as *const Zone;
        // SAFETY: guaranteed by the caller.
        if z.is_null() || unsafe { (*z).magic != ZONE_MAGIC || (*z).hdr.is_null() } {
            return None;
        }
        // SAFETY: as above; zones live as long as their cycle (and its VM).
        Some(unsafe { &*z })
    }

    /// A zone from the address of a lightuserdata, accepted only if it is
    /// one of `known` (the addresses `install` handed out).
    pub fn from_known<'a>(addr: usize, known: &[usize]) -> Option<&'a Zone> {
        if !known.contains(&addr) {
            return None;
        }
        // SAFETY: `known` lists zones of the VM's cycle, alive as long as it.
        unsafe { Zone::from_ptr(addr as *const c_void) }
    }

    /// The dict name of a zone in MainConf's list (initialised or not), by
    /// address.
    pub fn name_of(addr: usize, known: &[usize]) -> Vec<u8> {
        if addr == 0 || !known.contains(&addr) {
            return Vec::new();
        }
        // SAFETY: MainConf's list holds Zones allocated by `add` in the cycle pool.
        unsafe { (*(addr as *const Zone)).name.clone() }
    }

    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// Runs `f` on the store with the zone locked.
    pub fn with<R>(&self, f: impl FnOnce(&Store<'_, SlabAlloc>) -> R) -> Option<R> {
        let alloc = SlabAlloc(self.shpool);
        let _lock = Lock::new(self.shpool);
        // SAFETY: hdr was created (or validated) at zone init over this pool,
        // and the lock is held while the store is used.
        let store = unsafe { Store::open(self.hdr, &alloc) }?;
        Some(f(&store))
    }

    /// The zone's size in bytes.
    pub fn capacity(&self) -> usize {
        // SAFETY: shm_zone lives in the cycle's shared_memory list.
        unsafe { (*self.shm_zone).shm.size }
    }

    /// Free slab pages in bytes (as upstream's free_space).
    pub fn free_space(&self) -> usize {
        let _lock = Lock::new(self.shpool);
        // SAFETY: reading the pool's counter under its lock; ngx_pagesize is
        // set once at startup.
        unsafe { (*self.shpool).pfree * nginx_sys::ngx_pagesize }
    }
}

/// The `lua_shared_dict` directive.
pub fn add(cf: &Conf, main: &mut MainConf) -> Result<(), String> {
    let name = cf.arg(1);
    let size_arg = cf.arg(2);
    if name.is_empty() {
        return Err(format!(
            "invalid lua shared dict name \"{}\"",
            String::from_utf8_lossy(name)
        ));
    }
    let size = crate::conf::directives::parse_size(size_arg)
        .filter(|&s| s > 8191)
        .ok_or_else(|| {
            format!(
                "invalid lua shared dict size \"{}\"",
                String::from_utf8_lossy(size_arg)
            )
        })?;

    // SAFETY: cf is live; the name token lives in the cycle pool; the tag is
    // our module's address, stable while the module is loaded.
    unsafe {
        let raw = cf.raw();
        let mut ngx_name = ngx_str_t {
            len: name.len(),
            data: name.as_ptr() as *mut u8,
        };
        let tag = ptr::addr_of_mut!(crate::module::ngx_http_lua_rs_module) as *mut c_void;
        let shm_zone = ngx_shared_memory_add(raw, &mut ngx_name, size, tag);
        if shm_zone.is_null() {
            return Err(String::new());
        }
        if !(*shm_zone).data.is_null() {
            let other = &*((*shm_zone).data as *const Zone);
            return Err(format!(
                "lua_shared_dict \"{}\" is already defined as \"{}\"",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(&other.name)
            ));
        }
        let z = ngx::core::Pool::from_ngx_pool((*raw).pool).allocate(Zone {
            magic: ZONE_MAGIC,
            shpool: null_mut(),
            hdr: null_mut(),
            shm_zone,
            cycle: (*raw).cycle,
            main: main as *mut MainConf,
            name: name.to_vec(),
        });
        if z.is_null() {
            return Err("no memory".into());
        }
        (*shm_zone).init = Some(init_zone);
        (*shm_zone).data = z as *mut c_void;
        main.shm_zones.push(z);
    }
    Ok(())
}

/// nginx calls this once per zone when the cycle's shared memory is set up:
/// `data` is the previous cycle's `Zone` when the zone (same name, size and
/// tag) is kept across a reload. After the last zone, runs the deferred
/// init_by_lua (so it can use the dicts), as lua-nginx-module does.
unsafe extern "C" fn init_zone(shm_zone: *mut ngx_shm_zone_t, data: *mut c_void) -> ngx_int_t {
    // SAFETY: nginx passes our zone with `data` set by `add`.
    let z = unsafe { (*shm_zone).data as *mut Zone };
    // SAFETY: z is our Zone in the cycle pool.
    let log = unsafe { (*(*z).cycle).log };
    crate::ffi::guard(log, NGX_ERROR as ngx_int_t, || {
        // SAFETY: see each step.
        let ok = unsafe { init_zone_inner(shm_zone, z, data as *mut Zone, log) };
        if !ok {
            return NGX_ERROR as ngx_int_t;
        }
        // SAFETY: main is the cycle's main conf, alive with the cycle pool.
        let main = unsafe { &mut *(*z).main };
        main.shm_zones_inited += 1;
        if main.shm_zones_inited != main.shm_zones.len() {
            return NGX_OK as ngx_int_t;
        }
        // SAFETY: nginx still points ngx_cycle at the old cycle here; Lua code
        // in init_by_lua should see the new one, as upstream arranges. Single
        // threaded (the master at configuration time); restored right after.
        let saved = unsafe {
            let saved = nginx_sys::ngx_cycle;
            nginx_sys::ngx_cycle = (*z).cycle;
            saved
        };
        let r = crate::phase::init::run_init(main);
        // SAFETY: as above.
        unsafe { nginx_sys::ngx_cycle = saved };
        match r {
            Ok(()) => NGX_OK as ngx_int_t,
            Err(msg) => {
                crate::ffi::log::error(nginx_sys::NGX_LOG_EMERG as usize, log, &msg);
                NGX_ERROR as ngx_int_t
            }
        }
    })
}

/// # Safety
/// `shm_zone` is the live zone nginx is initialising, `z` its Zone, `old`
/// null or the previous cycle's Zone for the same memory.
unsafe fn init_zone_inner(
    shm_zone: *mut ngx_shm_zone_t,
    z: *mut Zone,
    old: *mut Zone,
    log: *mut nginx_sys::ngx_log_t,
) -> bool {
    // SAFETY: guaranteed by the caller; nginx has mapped shm.addr and (for a
    // new zone) initialised the slab pool there.
    unsafe {
        let name = String::from_utf8_lossy(&(*z).name).into_owned();
        if !old.is_null() {
            (*z).shpool = (*old).shpool;
            (*z).hdr = (*old).hdr;
        } else {
            let pool = (*shm_zone).shm.addr as *mut ngx_slab_pool_t;
            (*z).shpool = pool;
            if (*shm_zone).shm.exists != 0 {
                (*z).hdr = (*pool).data as *mut Header;
            } else {
                (*pool).set_log_nomem(0);
                let alloc = SlabAlloc(pool);
                let Some(h) = Store::create(&alloc) else {
                    crate::ffi::log::error(
                        nginx_sys::NGX_LOG_EMERG as usize,
                        log,
                        &format!("lua_shared_dict \"{name}\": no memory for the header"),
                    );
                    return false;
                };
                (*pool).data = h as *mut c_void;
                (*z).hdr = h;
                let ctx = format!(" in lua_shared_dict zone \"{name}\"\0");
                let p = alloc.alloc(ctx.len());
                if !p.is_null() {
                    ptr::copy_nonoverlapping(ctx.as_ptr(), p, ctx.len());
                    (*pool).log_ctx = p;
                }
            }
        }
        let alloc = SlabAlloc((*z).shpool);
        if Store::open((*z).hdr, &alloc).is_none() {
            crate::ffi::log::error(
                nginx_sys::NGX_LOG_EMERG as usize,
                log,
                &format!("lua_shared_dict \"{name}\": the zone holds data in an unknown layout"),
            );
            (*z).hdr = null_mut();
            return false;
        }
        true
    }
}
