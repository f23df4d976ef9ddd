package Test::Nginx::Socket::Lua::Stream;

# Test::Nginx::Socket::Lua for stream {} modules.  Adds the sections
#
#   --- stream_config          inside stream {}
#   --- stream_server_config   inside its server { listen <port>; }
#   --- stream_server_config2  a second server on <port> + 1 (config only)
#   --- stream_server_config3  a third server on <port> + 2 (config only)
#   --- stream_request         bytes sent to the first stream server
#   --- stream_response        expected reply (becomes --- response_body)
#   --- stream_response_like   (becomes --- response_body_like)
#
# <port> is TEST_NGINX_STREAM_PORT or the HTTP port + 1.
#
# Unlike upstream, which relays through a Lua location on the HTTP server,
# the harness talks to the stream server itself: the whole reply read until
# the server closes is the response body, and the status check sees 200
# (as for --- http09), so a block yields the same tests as upstream.  This
# works without any Lua module.  The requests to the 2nd and 3rd servers
# are not sent (the lua-nginx-module suites this project runs do not use
# them).

use strict;
use warnings;

use Test::Nginx::Socket::Lua -base;
use Test::Nginx::Util qw($ServerPort $ServerAddr add_block_preprocessor);

my $Port = $ENV{TEST_NGINX_STREAM_PORT} // ($ServerPort + 1);
$ENV{TEST_NGINX_STREAM_PORT} //= $Port;

add_block_preprocessor(sub {
    my ($block) = @_;
    my $name = $block->name;

    my $server_config = $block->stream_server_config;
    my $stream_config = $block->stream_config;
    if (defined $server_config || defined $stream_config) {
        my $conf = "stream {\n" . ($stream_config // '') . "\n";
        my @servers = ($server_config, $block->stream_server_config2,
                       $block->stream_server_config3);
        for my $i (0 .. $#servers) {
            next if $i > 0 && !defined $servers[$i];
            my $port = $Port + $i;
            $conf .= "    server {\n        listen $ServerAddr:$port;\n\n"
                   . ($servers[$i] // '') . "\n    }\n";
        }
        $conf .= "}\n";
        $block->set_value('main_config', ($block->main_config // '') . $conf);

        if (!defined $block->request && !defined $block->raw_request
            && !defined $block->pipelined_requests)
        {
            $block->set_value('raw_request', $block->stream_request // '');
            $block->set_value('http09', 1);
            $block->set_value('test_nginx_client_port', $Port);
        }
    }

    if (defined(my $resp = $block->stream_response)) {
        die "$name: conflicting stream_response and response_body sections\n"
            if defined $block->response_body;
        $block->set_value('response_body', $resp);
    }
    if (defined(my $like = $block->stream_response_like)) {
        die "$name: conflicting stream_response_like and response_body_like sections\n"
            if defined $block->response_body_like;
        $block->set_value('response_body_like', $like);
    }
});

1;
