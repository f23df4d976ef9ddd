# Test::Nginx::Socket::Lua::Stream against Debian's dynamic stream module
# (package libnginx-mod-stream); skipped when that module is not there.
BEGIN {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';
        $ENV{TEST_NGINX_LOAD_MODULES} = '';
        my $so = '/usr/lib/nginx/modules/ngx_stream_module.so';
        $ENV{TEST_NGINX_LOAD_MODULES} = $so if -f $so;
    }
}
use Test::Nginx::Socket::Lua::Stream;

if ($ENV{TEST_NGINX_LOAD_MODULES} !~ /stream/) {
    plan skip_all => 'no ngx_stream_module.so to load';
}

repeat_each(2);
plan tests => repeat_each() * (3 * blocks());
no_shuffle();
run_tests();

__DATA__

=== TEST 1: stream_server_config + stream_response
--- stream_server_config
    return "hello from stream\n";
--- stream_response
hello from stream
--- no_error_log
[error]



=== TEST 2: stream_request reaches a proxied mock; stream_response_like
--- stream_config
    proxy_connect_timeout 1s;
--- stream_server_config
    proxy_pass 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply: pong
--- stream_request: ping
--- stream_response_like: ^pong$
--- tcp_query: ping
