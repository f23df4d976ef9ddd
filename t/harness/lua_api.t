# The Test::Nginx::Socket::Lua entry point (no Lua is needed for these
# blocks) and the remaining file-wide API: no_root_location,
# config_preamble, check_accum_error_log, the exported paths and
# TEST_NGINX_INIT_BY_LUA.
BEGIN {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';
        $ENV{TEST_NGINX_LOAD_MODULES} = '';
    }
    $ENV{TEST_NGINX_INIT_BY_LUA} = q{require "x"};
}
use Test::Nginx::Socket::Lua 'no_plan';

no_root_location();
config_preamble('add_header X-Preamble yes;');
check_accum_error_log();
repeat_each(2);
no_shuffle();

is(server_port(), $ServerPort, 'server_port() is $ServerPort');
is($ENV{TEST_NGINX_SERVER_PORT}, $ServerPort, 'TEST_NGINX_SERVER_PORT is set');
is(server_root(), $ServerRoot, 'server_root() is $ServerRoot');
is(html_dir(), "$ServerRoot/html", 'html_dir() is under the server root');
is($HtmlDir, html_dir(), '$HtmlDir is html_dir()');
is($LogDir, "$ServerRoot/logs", '$LogDir is under the server root');
is($ServerAddr, '127.0.0.1', '$ServerAddr');
is($ENV{TEST_NGINX_RESOLVER}, '127.0.0.1:53', 'offline default resolver')
    if !defined $ENV{HARNESS_KEEP_RESOLVER};

# TEST_NGINX_INIT_BY_LUA is merged into the http config of every block.
my $filter = $Test::Nginx::Util::FilterHttpConfig;
like($filter->(''), qr/^\s*init_by_lua 'require "x"';$/m,
     'TEST_NGINX_INIT_BY_LUA adds an init_by_lua');
like($filter->(q{init_by_lua 'y()';}), qr/init_by_lua 'require "x"\n\s*y\(\)';/,
     'TEST_NGINX_INIT_BY_LUA is prepended to an existing init_by_lua');
# Without Lua in this nginx, keep the blocks free of init_by_lua.
$Test::Nginx::Util::FilterHttpConfig = undef;

run_tests();

__DATA__

=== TEST 1: no_root_location lets the block own "location /"; config_preamble applies
(with the default root location nginx would refuse the duplicate)
--- config
    location / { return 200 "mine\n"; }
--- request eval
["GET /", "GET /index.html"]
--- response_headers eval
["X-Preamble: yes", "X-Preamble: yes"]
--- response_body eval
["mine\n", "mine\n"]



=== TEST 2: check_accum_error_log: the first request's line is seen again
--- config
    location = /t { return 200 "fine\n"; }
    location = /missing { root $TEST_NGINX_HTML_DIR; }
--- request eval
["GET /missing", "GET /t"]
--- error_code eval
[404, 200]
--- error_log
/missing" failed
