//! Shared dictionaries (`lua_shared_dict`): the store (hash table, LRU,
//! expiry, lists) in `store`, the nginx zone around it in `zone`, and the C
//! entry points the Lua wrapper calls through LuaJIT's FFI in `exports`.
//! No Lua in here.

pub mod exports;
pub mod store;
pub mod zone;

pub use zone::Zone;
