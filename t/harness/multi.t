# Several requests per block: request arrays, pipelined_requests,
# raw_request (whole or in pieces), requests sent in packets, bodies.
BEGIN {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';
        $ENV{TEST_NGINX_LOAD_MODULES} = '';
    }
}
use Test::Nginx::Socket;

repeat_each(2);
plan tests => repeat_each() * 34;
no_shuffle();
run_tests();

__DATA__

=== TEST 1: request eval array: one connection per request, arrays of expectations
The error log is checked after every request, each time against the lines
that request added (upstream semantics), so each pattern is tested 3 times.
--- config
    location = /a { return 200 "A\n"; }
    location = /b { return 201 "B\n"; }
    location = /c { root html; }
--- request eval
["GET /a", "GET /b", "GET /c"]
--- error_code eval
[200, 201, 404]
--- response_body eval
["A\n", "B\n", qr/404 Not Found/]
--- error_log
http request line
--- no_error_log
[emerg]



=== TEST 2: pipelined_requests on one connection
--- config
    location = /a { return 200 "first"; }
    location = /b { return 200 "second, conn=$http_connection"; }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- response_body eval
["first", "second, conn=close"]
--- no_error_log
[error]



=== TEST 3: raw_request is sent verbatim
--- config
    location = /t { return 200 "raw $server_protocol $http_x_raw\n"; }
--- raw_request eval
"GET /t HTTP/1.0\r\nX-Raw: yes\r\n\r\n"
--- response_body
raw HTTP/1.0 yes



=== TEST 4: raw_request in pieces with raw_request_middle_delay
--- config
    location = /t { return 200 "pieces $http_x_a\n"; }
--- raw_request eval
["GET /t HTTP/1.1\r\nHost: localhost\r\n", "X-A: b\r\nConnection: close\r\n\r\n"]
--- raw_request_middle_delay: 0.05
--- response_body
pieces b



=== TEST 5: one request sent as packets keeps its headers
--- config
    location = /t { return 200 "args=$args host=$host\n"; }
--- request eval
[["GET /t?x", "=1"]]
--- response_body
args=x=1 host=localhost



=== TEST 6: body inline in request gets a Content-Length (trimmed body)
--- config
    location = /t { return 200 "len=$content_length method=$request_method\n"; }
--- request
POST /t
hello world
--- response_body
len=11 method=POST



=== TEST 7: request_body is sent byte for byte
--- config
    location = /t { return 200 "len=$content_length\n"; }
--- request
PUT /t
--- request_body eval
"ab\ncd\n"
--- response_body
len=6



=== TEST 8: Transfer-Encoding: chunked in more_headers: no Content-Length added
(nginx would answer 400 to a request carrying both)
--- config
    location = /t {
        client_body_in_single_buffer on;
        return 200 "te=$http_transfer_encoding\n";
    }
--- more_headers
Transfer-Encoding: chunked
--- request eval
"POST /t
5\r
hello\r
0\r
\r
"
--- response_body
te=chunked



=== TEST 9: more_headers as an array, one entry per request
--- config
    location = /t { return 200 "v=$http_x_v\n"; }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["X-V: one", "X-V: two"]
--- response_body eval
["v=one\n", "v=two\n"]
