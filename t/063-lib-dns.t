# vim:set ft= ts=4 sw=4 et fdm=marker:
# Debian's lua-nginx-dns (require "nginx.dns.resolver", i.e.
# lua-resty-dns), unmodified, against a UDP DNS responder on loopback (the
# harness's UDP mock answering with a reply built from the query).
use Test::Nginx::Socket::Lua;

repeat_each(2);

plan tests => repeat_each() * (blocks() * 3);

no_long_string();
run_tests();

__DATA__

=== TEST 1: an A query answered by the responder
--- udp_listen: $TEST_NGINX_RAND_PORT_2
--- udp_reply eval
sub {
    my $q = shift;
    my $id = substr($q, 0, 2);
    my $question = substr($q, 12);
    # header: same id, response + recursion available, 1 question, 1 answer
    my $hdr = $id . pack("nnnnn", 0x8180, 1, 1, 0, 0);
    # answer: pointer to the name at offset 12, type A, class IN, TTL 300
    my $ans = pack("nnnNn", 0xC00C, 1, 1, 300, 4) . pack("C4", 127, 0, 0, 2);
    return $hdr . $question . $ans;
}
--- config
    location = /t {
        content_by_lua_block {
            local resolver = require "nginx.dns.resolver"
            local r, err = resolver:new({
                nameservers = { { "127.0.0.1", $TEST_NGINX_RAND_PORT_2 } },
                retrans = 1,
                timeout = 2000,
            })
            if not r then
                ngx.say("new: ", err)
                return
            end
            local answers, err = r:query("www.example.test", { qtype = r.TYPE_A })
            if not answers then
                ngx.say("query: ", err)
                return
            end
            for _, a in ipairs(answers) do
                ngx.say(a.name, " ", a.type, " ", a.address, " ttl ", a.ttl)
            end
        }
    }
--- request
GET /t
--- response_body
www.example.test 1 127.0.0.2 ttl 300
--- no_error_log
[error]
