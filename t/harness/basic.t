# Core request/response sections against a plain nginx (no module loaded).
BEGIN {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';
        $ENV{TEST_NGINX_LOAD_MODULES} = '';
    }
}
use Test::Nginx::Socket;

repeat_each(2);
plan tests => repeat_each() * 35;
no_shuffle();
run_tests();

__DATA__

=== TEST 1: status, body and default error_code
--- config
    location = /t {
        return 200 "hello, world\n";
    }
--- request
GET /t
--- response_body
hello, world



=== TEST 2: error_code and response_body_like
--- config
    location = /t {
        return 403 "go away\n";
    }
--- request
GET /t
--- error_code: 403
--- response_body_like: ^go a\w+$



=== TEST 3: error_code_like and response_body_unlike
--- config
    location = /t {
        return 418 "teapot";
    }
--- request
GET /t
--- error_code_like: ^4\d\d$
--- response_body_unlike: coffee



=== TEST 4: response_headers: value, absent (!), empty value
--- config
    location = /t {
        add_header X-Foo "bar baz";
        add_header X-Empty "";
        return 200 "ok\n";
    }
--- request
GET /t
--- response_headers
X-Foo: bar baz
!X-Missing
X-Missing2:
Content-Type: text/plain
--- response_body
ok



=== TEST 5: response_headers_like and raw_response_headers_(un)like
--- config
    location = /t {
        add_header X-Num 12345;
        return 200 "ok\n";
    }
--- request
GET /t
--- response_headers_like
X-Num: \d+
Server: nginx.*
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\n
--- raw_response_headers_unlike: X-Not-There
--- response_body
ok



=== TEST 6: more_headers reach nginx (Host and custom ones)
--- config
    location = /t {
        return 200 "host=$host foo=$http_x_foo conn=$http_connection\n";
    }
--- request
GET /t
--- more_headers
X-Foo: hello
# a comment line is ignored
Host: example.com
--- response_body
host=example.com foo=hello conn=close



=== TEST 7: request with a query string and HTTP/1.0
--- config
    location = /t {
        return 200 "$request_method $request_uri $server_protocol $arg_a\n";
    }
--- request
GET /t?a=1&b=2 HTTP/1.0
--- response_body
GET /t?a=1&b=2 HTTP/1.0 1



=== TEST 8: request eval, response_body eval, $ServerPort substitution
--- config
    location = /t {
        return 200 "port=$server_port\n";
    }
--- request eval
"GET /t"
--- response_body eval
"port=$Test::Nginx::Util::ServerPort\n"



=== TEST 9: $TEST_NGINX_* expansion in config and expected body
--- config
    location = /t {
        return 200 "$TEST_NGINX_SERVER_PORT $TEST_NGINX_REDIS_PORT";
    }
--- request
GET /t
--- response_body: $TEST_NGINX_SERVER_PORT 6379



=== TEST 10: HEAD request has no body
--- config
    location = /t {
        return 200 "some body\n";
    }
--- request
HEAD /t
--- response_headers
Content-Length: 10
--- response_body



=== TEST 11: a missing static file: 404 and the root location
--- request
GET /no-such-file.html
--- error_code: 404
--- response_body_like: 404 Not Found



=== TEST 12: default root location serves index.html
--- config
--- request
GET /
--- response_body_like: It works!



=== TEST 13: response_body chomp filter
--- config
    location = /t {
        return 200 "no newline";
    }
--- request
GET /t
--- response_body chomp
no newline
