# The tcp_listen / udp_listen mock peers, driven by plain nginx proxying.
BEGIN {
    if (!defined $ENV{TEST_NGINX_BINARY}) {
        $ENV{TEST_NGINX_BINARY} = '/usr/sbin/nginx';
        $ENV{TEST_NGINX_LOAD_MODULES} = '';
    }
}
use Test::Nginx::Socket;

repeat_each(2);
plan tests => repeat_each() * 24;
no_shuffle();
run_tests();

__DATA__

=== TEST 1: tcp_query is compared with what the mock received
--- config
    location = /t {
        proxy_set_header Host foo;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/up?x=1;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query eval
"GET /up?x=1 HTTP/1.0\r
Host: foo\r
Connection: close\r
\r
"
--- tcp_reply eval
"HTTP/1.0 200 OK\r\nContent-Length: 6\r\nX-Up: yes\r\n\r\nfrom u"
--- request
GET /t
--- response_headers
X-Up: yes
--- response_body chomp
from u



=== TEST 2: tcp_query_len only
--- config
    location = /t {
        proxy_set_header Host abc;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_len: 49
--- tcp_reply eval
"HTTP/1.0 204 No Content\r\n\r\n"
--- request
GET /t
--- error_code: 204
--- response_body



=== TEST 3: a close-delimited upstream reply reaches us chunked and is de-chunked
--- config
    location = /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.0 200 OK\r\n\r\nhello world"
--- request
GET /t
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body chomp
hello world



=== TEST 4: tcp_reply in pieces after tcp_reply_delay
--- config
    location = /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply_delay: 100ms
--- tcp_reply eval
["HTTP/1.0 200 OK\r\nContent-Length: 4\r\n", "\r\nab", "cd"]
--- request
GET /t
--- response_body chomp
abcd



=== TEST 5: the request body is forwarded (tcp_query as a regex)
--- config
    location = /t {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query eval
qr/^POST \/t HTTP\/1\.0\r\n.*Content-Length: 8\r\n\r\nsome=arg$/s
--- tcp_reply eval
"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
--- request
POST /t
some=arg
--- response_body chomp
ok



=== TEST 6: tcp_no_close keeps the peer silent: nginx times out
--- config
    location = /t {
        proxy_read_timeout 200ms;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_no_close
--- tcp_reply:
--- request
GET /t
--- error_code: 504
--- error_log
upstream timed out



=== TEST 7: tcp_listen on a unix domain socket
--- config
    location = /t {
        proxy_pass http://unix:$TEST_NGINX_SERVER_ROOT/mock.sock:/;
    }
--- tcp_listen: $TEST_NGINX_SERVER_ROOT/mock.sock
--- tcp_reply eval
"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nunix"
--- request
GET /t
--- response_body chomp
unix



=== TEST 8: udp_query: nginx logs to syslog over UDP
--- config
    location = /t {
        access_log syslog:server=127.0.0.1:$TEST_NGINX_RAND_PORT_2,tag=harness combined;
        return 200 "logged\n";
    }
--- udp_listen: $TEST_NGINX_RAND_PORT_2
--- udp_reply: unused
--- udp_query eval
qr/harness: 127\.0\.0\.1 .*"GET \/t HTTP\/1\.1" 200/
--- request
GET /t
--- response_body
logged



=== TEST 9: timeout + abort: a slow response does not fail the block
--- config
    location = /t {
        proxy_read_timeout 5s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_no_close
--- tcp_reply:
--- request
GET /t
--- timeout: 0.3
--- abort
--- ignore_response
--- no_error_log
[alert]
