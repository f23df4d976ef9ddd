//! ngx.worker.* and ngx.config.*.

use mlua::{Lua, Table, Value};

use super::{set, subtable};
use crate::ffi::process;

/// The lua-nginx-module release whose API we follow (0.10.26).
pub const NGX_LUA_VERSION: i64 = 10026;

pub(crate) fn inject(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let worker = subtable(lua, ngx, "worker")?;
    set(lua, &worker, "pid", |_, ()| Ok(process::pid()))?;
    set(lua, &worker, "id", |_, ()| Ok(process::worker_id()))?;
    set(lua, &worker, "count", |_, ()| Ok(process::worker_count()))?;
    set(lua, &worker, "exiting", |_, ()| Ok(process::exiting()))?;

    let config = subtable(lua, ngx, "config")?;
    config.raw_set("subsystem", "http")?;
    config.raw_set("nginx_version", nginx_sys::nginx_version as i64)?;
    config.raw_set("ngx_lua_version", NGX_LUA_VERSION)?;
    config.raw_set("debug", cfg!(ngx_feature = "debug"))?;
    set(lua, &config, "prefix", |lua, ()| {
        Ok(Value::String(
            lua.create_string(crate::ffi::cycle_prefix())?,
        ))
    })?;
    set(lua, &config, "nginx_configure", |_, ()| {
        Ok(nginx_sys::NGX_CONFIGURE.to_string_lossy().into_owned())
    })?;
    Ok(())
}
