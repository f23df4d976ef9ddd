package Test::Nginx::Socket::Lua;

# Test::Nginx::Socket for lua-nginx-module style suites.  Everything is
# inherited; the one addition is TEST_NGINX_INIT_BY_LUA: Lua code the runner
# wants executed in init_by_lua of every test (e.g. to preload a library).
# It is prepended to a block's own init_by_lua, or added as a new one.

use strict;
use warnings;

use Test::Nginx::Socket -base;

if (my $code = $ENV{TEST_NGINX_INIT_BY_LUA}) {
    # The code is put inside a single-quoted nginx string.
    (my $quoted = $code) =~ s/\\/\\\\/g;
    $quoted =~ s/'/\\'/g;
    Test::Nginx::Socket::set_http_config_filter(sub {
        my $config = shift;
        return $config if $config =~ /\binit_by_lua_(?:file|block)\b/;
        return $config
            if $config =~ s{\binit_by_lua\s*(['"])}{init_by_lua $1$quoted\n};
        return "$config\n    init_by_lua '$quoted';\n";
    });
}

1;
