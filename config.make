# Makefile fragment appended by nginx's configure: always run cargo (it does
# its own change tracking).
cat << END >> $NGX_MAKEFILE

.PHONY: $ngx_lua_rs_lib

$ngx_lua_rs_lib:
	NGINX_BUILD_DIR=\$(abspath $NGX_OBJS) NGX_CONFIGURE_ARGS= \\
	$NGX_CARGO rustc --release --crate-type staticlib --lib \\
		--manifest-path "$ngx_lua_rs_manifest" \\
		--no-default-features \\
		--target-dir $ngx_lua_rs_target

END
