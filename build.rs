//! Turns what nginx-sys learned about the nginx tree into cfgs, and makes the
//! statically linked LuaJIT C API visible to Lua C modules (e.g. cjson.so).

use std::env;
use std::path::PathBuf;

fn main() {
    // nginx feature and OS cfgs, as ngx-rust's template does.
    println!("cargo::rerun-if-env-changed=DEP_NGINX_FEATURES_CHECK");
    println!(
        "cargo::rustc-check-cfg=cfg(ngx_feature, values({}))",
        env::var("DEP_NGINX_FEATURES_CHECK").unwrap_or_else(|_| "any()".to_string())
    );
    println!("cargo::rerun-if-env-changed=DEP_NGINX_FEATURES");
    if let Ok(features) = env::var("DEP_NGINX_FEATURES") {
        for feature in features.split(',').map(str::trim) {
            println!("cargo::rustc-cfg=ngx_feature=\"{feature}\"");
        }
    }
    println!("cargo::rerun-if-env-changed=DEP_NGINX_OS_CHECK");
    println!(
        "cargo::rustc-check-cfg=cfg(ngx_os, values({}))",
        env::var("DEP_NGINX_OS_CHECK").unwrap_or_else(|_| "any()".to_string())
    );
    println!("cargo::rerun-if-env-changed=DEP_NGINX_OS");
    if let Ok(os) = env::var("DEP_NGINX_OS") {
        println!("cargo::rustc-cfg=ngx_os=\"{os}\"");
    }

    println!("cargo::rerun-if-env-changed=DEP_NGINX_VERSION_NUMBER");
    println!("cargo::rerun-if-env-changed=DEP_NGINX_BUILD_DIR");
    if let Ok(dir) = env::var("DEP_NGINX_BUILD_DIR") {
        println!("cargo::rustc-env=NGX_LUA_RS_NGINX_BUILD_DIR={dir}");
    }

    // A cdylib hides the symbols of the LuaJIT it links statically; Lua C modules
    // loaded through lua_package_cpath need them, so export the Lua C API.
    let script = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("src/ffi/exports.ver");
    println!("cargo::rerun-if-changed={}", script.display());
    println!(
        "cargo::rustc-cdylib-link-arg=-Wl,--version-script={}",
        script.display()
    );

    // Unit tests exercise pure logic only, but the test binary still
    // references nginx's symbols (they come from the nginx binary at load
    // time), so let them stay unresolved there.
    println!("cargo::rustc-link-arg=-Wl,--unresolved-symbols=ignore-all");
}
