//! Lua modules built into the .so, registered in `package.preload` so a
//! `require` finds ours before any file on the search path (DESIGN.md section 7).

use mlua::{Lua, Table};

/// (module name, source).
const MODULES: &[(&str, &str)] = &[("resty.core", include_str!("../../lualib/resty/core.lua"))];

pub fn install(lua: &Lua) -> mlua::Result<()> {
    let package: Table = lua.globals().get("package")?;
    let preload: Table = package.get("preload")?;
    for (name, src) in MODULES {
        let chunk = lua.load(*src).set_name(format!("={name}")).into_function()?;
        preload.set(*name, chunk)?;
    }
    Ok(())
}
