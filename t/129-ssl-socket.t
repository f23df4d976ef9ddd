# vim:set ft= ts=4 sw=4 et fdm=marker:
use Test::Nginx::Socket::Lua;
use File::Temp qw(tempdir);

# A test CA, a server certificate it signs (test.com) and a self-signed one,
# made fresh for this run with the openssl command line tool.
my $dir = tempdir("ngx-lua-rs-ssl-XXXXXX", TMPDIR => 1, CLEANUP => 1);
sub sh { system(@_) == 0 or die "failed: @_\n" }
my @key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes");
sh("openssl", "req", "-x509", @key, "-keyout", "$dir/ca.key", "-out", "$dir/ca.crt",
   "-days", "30", "-subj", "/CN=ngx-lua-rs test CA", "-addext", "basicConstraints=critical,CA:TRUE",
   "-addext", "keyUsage=critical,keyCertSign,cRLSign");
sh("openssl", "req", @key, "-keyout", "$dir/server.key", "-out", "$dir/server.csr",
   "-subj", "/CN=test.com");
open my $ext, '>', "$dir/ext.cnf" or die;
print $ext "subjectAltName=DNS:test.com,DNS:*.test.com\nbasicConstraints=CA:FALSE\n";
close $ext;
sh("openssl x509 -req -in $dir/server.csr -CA $dir/ca.crt -CAkey $dir/ca.key"
   . " -CAcreateserial -out $dir/server.crt -days 30 -extfile $dir/ext.cnf 2>/dev/null");
sh("openssl", "req", "-x509", @key, "-keyout", "$dir/self.key", "-out", "$dir/self.crt",
   "-days", "30", "-subj", "/CN=test.com");
$ENV{TEST_NGINX_CERT_DIR} = $dir;

our $Servers = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 ssl;
        server_name test.com;
        ssl_certificate $TEST_NGINX_CERT_DIR/server.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets on;
        keepalive_requests 100;
        location / {
            return 200 "sni=$ssl_server_name reused=$ssl_session_reused proto=$ssl_protocol uri=$uri\n";
        }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2 ssl;
        ssl_certificate $TEST_NGINX_CERT_DIR/self.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/self.key;
        location / {
            return 200 "self-signed\n";
        }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_4 ssl;
        ssl_certificate $TEST_NGINX_CERT_DIR/server.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/server.key;
        ssl_protocols TLSv1.2;
        location / {
            return 200 "reused=$ssl_session_reused proto=$ssl_protocol\n";
        }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_5 ssl;
        ssl_certificate $TEST_NGINX_CERT_DIR/server.crt;
        ssl_certificate_key $TEST_NGINX_CERT_DIR/server.key;
        ssl_verify_client on;
        ssl_client_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        location / {
            return 200 "client=$ssl_client_s_dn verify=$ssl_client_verify\n";
        }
    }
    init_by_lua_block {
        -- GET path over an established (TLS) socket; returns the body.
        function http_get(sock, path, keepalive)
            local req = "GET " .. path .. " HTTP/1.1\r\nHost: test.com\r\n"
                        .. (keepalive and "" or "Connection: close\r\n") .. "\r\n"
            local bytes, err = sock:send(req)
            if not bytes then
                return nil, "send: " .. err
            end
            local len
            while true do
                local line, err = sock:receive()
                if not line then
                    return nil, "receive header: " .. err
                end
                if line == "" then
                    break
                end
                local n = line:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")
                if n then
                    len = tonumber(n)
                end
            end
            local body, err = sock:receive(len)
            if not body then
                return nil, "receive body: " .. err
            end
            return body
        end
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    my $extra = $block->http_config // '';
    $block->set_value("http_config", $Servers . $extra);
});

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3 - 2);

no_long_string();
run_tests();

__DATA__

=== TEST 1: verified handshake with SNI, then HTTP over TLS
--- http_config
    lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(3000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            local sess, err = sock:sslhandshake(nil, "test.com", true)
            if not sess then
                ngx.say("handshake failed: ", err)
                return
            end
            ngx.say("session: ", type(sess))
            ngx.say(http_get(sock, "/hello"))
            ngx.say("close: ", sock:close())
        }
    }
--- request
GET /t
--- response_body_like
^session: userdata
sni=test.com reused=\. proto=TLSv1\.[23] uri=/hello

close: 1
--- no_error_log
[error]



=== TEST 2: reused_session false returns true; no SNI and no verification
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(3000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            local ok, err = sock:sslhandshake(false)
            ngx.say("handshake: ", ok, " ", err)
            ngx.say(http_get(sock, "/x"))
            sock:close()
        }
    }
--- request
GET /t
--- response_body_like
^handshake: true nil
sni= reused=\. proto=TLSv1\.[23] uri=/x
--- no_error_log
[error]



=== TEST 3: verification without a trusted CA fails with OpenSSL's code and text
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(3000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            local sess, err = sock:sslhandshake(nil, "test.com", true)
            ngx.say("handshake: ", sess, " ", err)
            local bytes, err = sock:send("x")
            ngx.say("send after failure: ", bytes, " ", err)
        }
    }
--- request
GET /t
--- response_body
handshake: nil 20: unable to get local issuer certificate
send after failure: nil closed
--- error_log
lua ssl certificate verify error: (20: unable to get local issuer certificate)



=== TEST 4: a self-signed server certificate is not trusted by the CA bundle
--- http_config
    lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(3000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            local sess, err = sock:sslhandshake(nil, "test.com", true)
            ngx.say("verify on: ", sess, " ", err)

            sock = ngx.socket.tcp()
            sock:settimeout(3000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            local sess, err = sock:sslhandshake(nil, "test.com", false)
            ngx.say("verify off: ", type(sess), " ", err)
            ngx.print(http_get(sock, "/"))
        }
    }
--- request
GET /t
--- response_body
verify on: nil 18: self-signed certificate
verify off: userdata nil
self-signed
--- error_log
lua ssl certificate verify error: (18: self-signed certificate)



=== TEST 5: host name mismatch
--- http_config
    lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(3000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            local sess, err = sock:sslhandshake(nil, "example.org", true)
            ngx.say("mismatch: ", sess, " ", err)

            -- a wildcard SAN matches; without verification names are not checked
            sock = ngx.socket.tcp()
            sock:settimeout(3000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            ngx.say("wildcard: ", type((sock:sslhandshake(nil, "api.test.com", true))))
            sock:close()
            sock = ngx.socket.tcp()
            sock:settimeout(3000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            ngx.say("no verify: ", type((sock:sslhandshake(nil, "example.org", false))))
            sock:close()
        }
    }
--- request
GET /t
--- response_body
mismatch: nil certificate host mismatch
wildcard: userdata
no verify: userdata
--- error_log
lua ssl certificate does not match host "example.org"



=== TEST 6: session reuse (TLSv1.2 server with tickets)
--- http_config
    lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
--- config
    location /t {
        content_by_lua_block {
            local sess
            for i = 1, 3 do
                local sock = ngx.socket.tcp()
                sock:settimeout(3000)
                assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_4))
                local s, err = sock:sslhandshake(sess, "test.com", true)
                if not s then
                    ngx.say("handshake ", i, " failed: ", err)
                    return
                end
                if not sess then
                    sess = s
                end
                ngx.print(i, ": ", http_get(sock, "/"))
                sock:close()
            end
            sess = nil
            collectgarbage()
            ngx.say("done")
        }
    }
--- request
GET /t
--- response_body
1: reused=. proto=TLSv1.2
2: reused=r proto=TLSv1.2
3: reused=r proto=TLSv1.2
done
--- no_error_log
[error]



=== TEST 7: keepalive pool keeps TLS connections; the handshake of a reused one returns at once
--- http_config
    lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
--- config
    location /t {
        content_by_lua_block {
            for i = 1, 3 do
                local sock = ngx.socket.tcp()
                sock:settimeout(3000)
                assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
                local reused = sock:getreusedtimes()
                local s, err = sock:sslhandshake(nil, "test.com", true)
                ngx.say(i, ": reused ", reused, ", handshake: ", type(s), " ", err)
                ngx.print(http_get(sock, "/k" .. i, true))
                if i == 2 then
                    local again = sock:sslhandshake(s, "test.com", true)
                    ngx.say("same session back: ", again == s)
                end
                if i < 3 then
                    assert(sock:setkeepalive())
                else
                    sock:close()
                end
            end
        }
    }
--- request
GET /t
--- response_body_like
^1: reused 0, handshake: userdata nil
sni=test.com reused=\. proto=\S+ uri=/k1
2: reused 1, handshake: userdata nil
sni=test.com reused=\. proto=\S+ uri=/k2
same session back: true
3: reused 2, handshake: userdata nil
sni=test.com reused=\. proto=\S+ uri=/k3
--- no_error_log
[error]



=== TEST 8: handshake timeout
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(200)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_3))
            local t = ngx.now()
            local s, err = sock:sslhandshake(nil, "test.com")
            ngx.say("handshake: ", s, " ", err)
            ngx.say("closed: ", select(2, sock:send("x")))
        }
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_3
--- tcp_reply:
--- tcp_reply_delay: 1s
--- tcp_no_close
--- request
GET /t
--- response_body
handshake: nil timeout
closed: closed
--- no_error_log
[alert]



=== TEST 9: handshake with a plain-text peer fails
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_SERVER_PORT))
            local s, err = sock:sslhandshake()
            ngx.say("handshake: ", s, " ", err)
        }
    }
--- request
GET /t
--- response_body
handshake: nil handshake failed
--- error_log
SSL_do_handshake() failed



=== TEST 10: closed sockets, argument count, lua_ssl_protocols
--- http_config
    lua_ssl_protocols TLSv1.3;
--- config
    location /t {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            ngx.say("unconnected: ", sock:sslhandshake())
            ngx.say(pcall(sock.sslhandshake, sock, nil, nil, nil, nil, nil, nil))
            sock:settimeout(2000)
            -- the TLSv1.2-only server cannot talk to a TLSv1.3-only client
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_4))
            ngx.say("1.3 vs 1.2: ", sock:sslhandshake())
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            local s = sock:sslhandshake(false)
            ngx.say("1.3 vs 1.2+1.3: ", s, " ", (http_get(sock, "/")))
        }
    }
--- request
GET /t
--- response_body_like
^unconnected: nilclosed
falsengx.socket sslhandshake: expecting 1 ~ 5 arguments \(including the object\), but seen 7
1.3 vs 1.2: nilhandshake failed
1.3 vs 1.2\+1.3: true sni= reused=\. proto=TLSv1.3 uri=/



=== TEST 11: a location overrides the server-level trust store and depth
--- http_config
    lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/self.crt;
--- config
    location /t {
        lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
        lua_ssl_verify_depth 2;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
            ngx.say("ca: ", type((sock:sslhandshake(nil, "test.com", true))))
            sock:close()
            ngx.location.capture("/self")
            local res = ngx.location.capture("/self")
            ngx.print(res.body)
        }
    }
    location /self {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_2))
            ngx.say("self: ", type((sock:sslhandshake(nil, "test.com", true))))
        }
    }
--- request
GET /t
--- response_body
ca: userdata
self: userdata



=== TEST 12: client certificate (lua_ssl_certificate / lua_ssl_certificate_key)
--- config
    location /t {
        content_by_lua_block {
            for _, path in ipairs({"/with", "/without"}) do
                local res = ngx.location.capture(path)
                ngx.print(path, ": ", res.body)
            end
        }
    }
    location /with {
        lua_ssl_certificate $TEST_NGINX_CERT_DIR/server.crt;
        lua_ssl_certificate_key $TEST_NGINX_CERT_DIR/server.key;
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_5))
            assert(sock:sslhandshake(false))
            ngx.print(http_get(sock, "/"))
        }
    }
    location /without {
        content_by_lua_block {
            local sock = ngx.socket.tcp()
            sock:settimeout(2000)
            assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_5))
            assert(sock:sslhandshake(false))
            local body = http_get(sock, "/")
            ngx.say(body:match("No required SSL certificate was sent") or body)
        }
    }
--- request
GET /t
--- response_body
/with: client=CN=test.com verify=SUCCESS
/without: No required SSL certificate was sent
--- no_error_log
[error]



=== TEST 13: handshake inside a timer
--- http_config
    lua_ssl_trusted_certificate $TEST_NGINX_CERT_DIR/ca.crt;
--- config
    location /t {
        content_by_lua_block {
            local result
            local ok = ngx.timer.at(0, function()
                local sock = ngx.socket.tcp()
                sock:settimeout(2000)
                assert(sock:connect("127.0.0.1", $TEST_NGINX_RAND_PORT_1))
                local s, err = sock:sslhandshake(nil, "test.com", true)
                result = type(s) .. " " .. tostring(err) .. " " .. (http_get(sock, "/timer") or "")
                sock:close()
            end)
            for i = 1, 100 do
                if result then break end
                ngx.sleep(0.02)
            end
            ngx.print(result)
        }
    }
--- request
GET /t
--- response_body_like
^userdata nil sni=test.com reused=\. proto=\S+ uri=/timer
--- no_error_log
[error]
