//! Lua modules built into the .so, registered in `package.preload` so a
//! `require` finds ours before any file on the search path (DESIGN.md section 7).

use mlua::{Lua, Table};

/// (module name, source).
const MODULES: &[(&str, &str)] = &[("resty.core", include_str!("../../lualib/resty/core.lua"))];

/// A module built by Rust code: its loader returns the module table.
type RustModule = fn(&Lua) -> mlua::Result<Table>;

/// (module name, builder) for modules implemented in Rust.
const RUST_MODULES: &[(&str, RustModule)] = &[
    ("cjson", crate::cjson::module),
    ("cjson.safe", crate::cjson::safe_module),
];

pub fn install(lua: &Lua) -> mlua::Result<()> {
    let package: Table = lua.globals().get("package")?;
    let preload: Table = package.get("preload")?;
    for (name, src) in MODULES {
        let chunk = lua
            .load(*src)
            .set_name(format!("={name}"))
            .into_function()?;
        preload.set(*name, chunk)?;
    }
    for (name, build) in RUST_MODULES {
        let build = *build;
        preload.set(
            *name,
            lua.create_function(move |lua, _: mlua::MultiValue| build(lua))?,
        )?;
    }
    Ok(())
}
