package Test::Nginx::Socket;

# Data-driven nginx tests in the style of CPAN's Test::Nginx::Socket,
# implemented for this project from that module's documented behaviour.
#
#   use Test::Nginx::Socket 'no_plan';      # or: plan tests => ...;
#   run_tests();
#   __DATA__
#   === TEST 1: name
#   --- config
#   location = /t { return 200 "hi\n"; }
#   --- request
#   GET /t
#   --- response_body
#   hi
#
# Blocks are parsed by Test::Base (so its filters such as "eval" and
# "chomp" apply).  For every block a fresh nginx is configured and started,
# each request of the block is sent repeat_each() times, and the response,
# the error log and the mock peers are checked.  Test names and the number
# of tests each section produces follow upstream, so plans written for
# upstream Test::Nginx stay right.

use strict;
use warnings;

use Test::Base -base;
use Test::Nginx::Util;
use Test::Nginx::Request qw(requests_from_block);
use Test::Nginx::Client qw(send_request parse_response);
use Test::Nginx::Mock qw(start_tcp_server start_udp_server stop_server read_query);
use Test::LongString ();
use Text::Diff ();
use Encode ();
use Digest::MD5 ();
use Digest::SHA ();
use List::Util qw(shuffle min);
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep);

our @EXPORT = qw(
    plan run_tests run_test repeat_each config_preamble worker_connections
    master_process_enabled no_long_string workers master_on master_off
    log_level no_shuffle no_root_location use_hup server_name server_addr
    server_root html_dir log_dir server_port server_port_for_client timeout
    no_nginx_manager check_accum_error_log env_to_nginx is_str
    add_block_preprocessor bail_out add_cleanup_handler
    add_response_body_check set_http_config_filter
    $ServerPort $ServerPortForClient $ServerAddr $ServerName $ServRoot
    $ServerRoot $HtmlDir $LogDir $NginxBinary $NginxVersion $RepeatEach
    $NoLongString
);

our @ResponseBodyChecks;
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }
sub set_http_config_filter ($) { $FilterHttpConfig = shift }

my $PrevBlock;    # for blocks without --- config

# ===========================================================================
# Driver
# ===========================================================================
sub run_tests () {
    # A file that declared no plan runs as no_plan (otherwise Test::Base
    # would try a comparison of its own at exit).
    Test::More::plan('no_plan') unless Test::Builder->new->has_plan;
    get_nginx_version();
    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;
    for my $i (0 .. $#blocks) {
        my $block = $blocks[$i];
        $_->($block) for @BlockPreprocessors;
        run_test($block, $i == $#blocks);
        $PrevBlock = $block;
    }
    cleanup();
}

sub run_test {
    my ($block, $is_last) = @_;
    return if defined $block->SKIP;
    my $name = $block->name;
    my $rand_ports = {};

    inherit_config($block);
    # The sections as written, for a retry with other ports (expansion
    # replaces each section's value list, it does not edit it).
    my %as_written = map { $_ => $block->{$_} }
                     grep { ref $block->{$_} eq 'ARRAY' } keys %$block;
    expand_sections($block, $rand_ports);
    my $config = $block->config // '';

    my ($should_skip, $tests_to_skip, $skip_reason) = skip_info($block);
    my ($should_todo, $todo_reason);
    if (defined(my $todo = $block->todo)) {
        $todo =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$name - Invalid --- todo spec: $todo");
        ($should_todo, $tests_to_skip, $todo_reason) = (1, $1, $2);
    }

    if (defined $block->must_die) {
        return run_must_die($block, $config, $rand_ports);
    }

    # Skipped and TODO blocks never need nginx (a TODO block's config often
    # uses what is not implemented yet).
    my $idle = $should_skip || $should_todo;
    my $started;
    if (!$idle) {
        # A port picked as free can be taken before nginx binds it (by the
        # other files of a "prove -j N" run): then pick new ones and retry.
        my $r;
        for my $attempt (0 .. 3) {
            if ($attempt) {
                if ($Test::Nginx::Util::Randomize) {
                    my $port = gen_rand_port(1000);
                    server_port($port);
                    server_port_for_client($port);
                }
                $block->{$_} = $as_written{$_} for keys %as_written;
                %$rand_ports = ();
                expand_sections($block, $rand_ports);
                $config = $block->config // '';
            }
            setup_server_root();
            write_user_files($block, $rand_ports);
            write_config_file($block, $config, $rand_ports);
            $r = start_nginx();
            last if $r->{ok} || ($r->{stderr} // '') !~ /Address already in use/;
        }
        if (!$r->{ok}) {
            # Upstream bails out of the whole run here; failing the block
            # keeps the remaining blocks (and files) running.
            my $why = startup_error($r);
            Test::More::fail("$name - nginx started ($why)");
            return;
        }
        $started = 1;
    }

    if (defined(my $init = $block->init)) {
        eval "package main; $init";
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    for my $rep (0 .. $RepeatEach - 1) {
        my @mocks;
        if (!$idle) {
            push @mocks, start_tcp_server($block) if defined $block->tcp_listen;
            push @mocks, start_udp_server($block) if defined $block->udp_listen;
            write_user_files($block, $rand_ports) if $rep > 0;
        }

        if ($should_skip && defined $tests_to_skip) {
            SKIP: { Test::More::skip("$name - $skip_reason", $tests_to_skip) }
        } elsif ($should_todo) {
            TODO: { Test::More::todo_skip("$name - $todo_reason", $tests_to_skip) }
        } elsif (!$should_skip) {
            run_requests($block, $rep);
            check_mock_queries($block, @mocks);
        }

        stop_server($_) for @mocks;
    }

    finish_nginx($block, $is_last) if $started;
}

# A block without --- config runs with the previous block's configuration
# (upstream keeps the previous nginx running in that case).
sub inherit_config {
    my $block = shift;
    return if defined $block->config || !$PrevBlock;
    for my $sec (qw(config http_config main_config post_main_config)) {
        my $v = $PrevBlock->$sec;
        $block->set_value($sec, $v) if defined $v && !defined $block->$sec;
    }
}

# $TEST_NGINX_* in every section; unknown names are left alone except in
# the nginx configuration sections, where they are an error (as upstream).
sub expand_sections {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my %strict = map { $_ => 1 } qw(config http_config main_config post_main_config);
    my %meta = map { $_ => 1 } qw(name description);
    for my $sec (keys %$block) {
        next if $sec =~ /^_/ || $meta{$sec} || ref $block->{$sec} ne 'ARRAY';
        my @vals = map { expand_value($_, $name, $rand_ports, $strict{$sec}) }
                   @{ $block->{$sec} };
        $block->{$sec} = \@vals;
    }
}

sub expand_value {
    my ($v, $name, $rand_ports, $strict) = @_;
    return expand_env_in_text($v, $name, $rand_ports, $strict) if !ref $v;
    return [ map { expand_value($_, $name, $rand_ports, $strict) } @$v ]
        if ref $v eq 'ARRAY';
    return $v;
}

# --- skip_eval: "N: perl-expr", --- skip_nginx: "N: < 1.2.3[: reason]"
sub skip_info {
    my $block = shift;
    my $name = $block->name;
    my ($should_skip, $n, $reason);
    if (defined(my $spec = $block->skip_eval)) {
        $spec =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$name - Invalid --- skip_eval spec: $spec");
        $n = $1;
        $reason = 'skip_eval';
        $should_skip = eval "package main; $2";
        bail_out("$name - skip_eval - failed to eval the Perl code \"$2\": $@") if $@;
    }
    for my $sec (qw(skip_nginx skip_nginx2)) {
        my $spec = $block->$sec;
        next unless defined $spec;
        $spec =~ /^\s*(\d+)\s*:\s*(.*?)\s*(?::\s*(.*?))?\s*$/s
            or bail_out("$name - Invalid --- $sec spec: $spec");
        $n = $1;
        my ($conds, $why) = ($2, $3);
        my @parts = split /\s+(and|or)\s+/, $conds;
        my $result;
        my $op = 'or';
        for my $part (@parts) {
            if ($part eq 'and' || $part eq 'or') { $op = $part; next }
            $part =~ /^([<>]=?)\s*(\d+)\.(\d+)\.(\d+)$/
                or bail_out("$name - Invalid --- $sec spec: $spec");
            my $want = get_canon_version($2, $3, $4);
            my $hit = eval "$NginxVersion $1 $want";
            $result = !defined $result ? $hit
                    : $op eq 'and' ? ($result && $hit) : ($result || $hit);
        }
        $reason = $why || "nginx version $conds";
        $should_skip ||= $result;
    }
    return ($should_skip, $n, $reason // 'various reasons');
}

sub startup_error {
    my $r = shift;
    my $why = $r->{signal} ? "killed by signal $r->{signal}"
            : "exit code $r->{exit_code}";
    my @emerg = grep { /\[(?:emerg|alert|crit)\]|nginx: / }
                split /\n/, ($r->{stderr} // '');
    $why .= ": $emerg[0]" if @emerg;
    return $why;
}

# --- must_die: nginx must refuse to start.  Optional error_log checks see
# both the error log and what nginx printed on stderr.
sub run_must_die {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;
    for my $rep (0 .. $RepeatEach - 1) {
        setup_server_root();
        write_user_files($block, $rand_ports);
        write_config_file($block, $config, $rand_ports);
        $ErrLogFilePos = 0;
        my $r = start_nginx(must_die => 1);
        if ($r->{ok}) {
            warn "WARNING: $name - nginx must die but it does not; killing it (req $rep)\n";
            stop_nginx();
            $r = { status => 0, exit_code => 0 };
        }
        if (!$r->{ok} && $r->{exit_code} == 127 && !$r->{signal}) {
            Test::More::fail("$name - failed to execute the nginx command line");
        } elsif ($r->{coredump}) {
            Test::More::fail("$name - nginx core dumped");
        } elsif (looks_like_number($must_die)) {
            Test::More::is($r->{exit_code}, $must_die,
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($r->{status}, 0, "$name - die as expected");
        }
        check_error_log($block, undef, $rep, 0, with_stderr => 1);
    }
}

# Stops the block's nginx and reports crashes seen in its lifetime.
sub finish_nginx {
    my ($block, $is_last) = @_;
    my $name = $block->name;
    my $died;
    if ($ENV{TEST_NGINX_NO_CLEAN} && $is_last) {
        # Leave it running for inspection, as upstream does.
        $died = "nginx is gone" unless is_running(nginx_pid());
    } else {
        $died = stop_nginx();
    }
    my @crash;
    if (open my $in, '<', $ErrLogFile) {
        @crash = grep { /exited on signal \d+|\bsignal 11\b|segmentation fault/i } <$in>;
        close $in;
    }
    if ($died || @crash) {
        Test::More::fail("$name - nginx did not crash");
        Test::More::diag($died) if $died;
        Test::More::diag("error.log: $_") for @crash[0 .. min(4, $#crash)];
    }
    return if $ENV{TEST_NGINX_NO_CLEAN} && $is_last;
    check_shutdown_error_log($block);
}

# ===========================================================================
# Requests and response checks
# ===========================================================================
sub run_requests {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my ($reqs, $npipelined) = requests_from_block($block);
    bail_out("$name - request empty") unless @$reqs;

    my $timeout = parse_time($block->timeout) // $Timeout;
    my $need_array = $npipelined ? 1 : @$reqs > 1;
    my $wait = parse_time($block->wait);
    my $req_idx = 0;
    my $res;

    for my $r (0 .. $#$reqs) {
        my $pieces = $reqs->[$r];
        my $is_head = (join '', map { $_->{value} } @$pieces) =~ /^\s*HEAD\s/;
        my $out = send_request(
            pieces => $pieces, addr => $block->server_addr_for_client // $ServerAddr,
            port => $block->test_nginx_client_port // $ServerPortForClient,
            timeout => $timeout,
            middle_delay => parse_time($block->raw_request_middle_delay),
            shutdown => shutdown_how($block),
        );
        if (defined $out->{error}) {
            Test::More::fail("$name - Can't connect to $ServerAddr:$ServerPortForClient: "
                             . "$out->{error} (aborted)");
        } elsif ($out->{timed_out} && !defined $block->abort) {
            Test::More::fail("ERROR: client socket timed out - $name");
        }

        my $raw = $out->{raw};
        my $count = $npipelined || 1;
        for my $k (1 .. $count) {
            my ($raw_headers, $left, $err) = ('', '');
            undef $res;
            if (!defined $block->ignore_response) {
                ($res, $raw_headers, $left, $err) =
                    parse_response($raw, head => $is_head, http09 => defined $block->http09);
                Test::More::fail("$name - $err") if $err;
                if ($res && $res->{truncated} && !$out->{timed_out}) {
                    warn "WARNING: $name - response body truncated: $res->{truncated} "
                       . "expected, but got " . length($res->content) . "\n";
                }
                if (!$npipelined && defined $left && length $left) {
                    (my $shown = $left) =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after last chunk "
                       . "in response: \"$shown\"\n";
                }
                $raw = $left // '';

                check_error_code($block, $res, $req_idx, $need_array);
                check_raw_response_headers($block, $raw_headers, $req_idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $req_idx, $need_array);
                transform_response_body($block, $res, $req_idx);
                check_response_body($block, $res, $req_idx, $rep, $need_array);
            }
            if ($k < $count || $r < $#$reqs) {
                sleep $wait if $wait;
                check_error_log($block, $res, $rep, $need_array);
                check_access_log($block, $rep) unless defined $block->ignore_response;
            }
            $req_idx++;
        }
    }

    sleep $wait if $wait;
    check_error_log($block, $res, $rep, $need_array);
    check_access_log($block, $rep) unless defined $block->ignore_response;
}

sub shutdown_how {
    my $block = shift;
    my $how = $block->shutdown;
    return undef unless defined $how;
    return $how =~ /^\s*$/ ? 1 : $how;
}

# For blocks with several requests every expectation must be an array with
# one entry per request.
sub indexed {
    my ($name, $value, $req_idx, $need_array) = @_;
    if (ref $value eq 'ARRAY') {
        return $value->[$req_idx] if $need_array;
        return $value->[0];
    }
    bail_out("$name - You asked for many requests, the expected results "
             . "should be arrays as well.") if $need_array;
    return $value;
}

sub check_error_code {
    my ($block, $res, $req_idx, $need_array) = @_;
    my $name = $block->name;
    my $code = ($res && $res->code) || '';
    if (defined $block->error_code_like) {
        my $pat = indexed($name, $block->error_code_like, $req_idx, $need_array);
        Test::More::like($code, qr/$pat/sm, "$name - status code ok");
    } elsif (defined $block->error_code) {
        my $want = indexed($name, $block->error_code, $req_idx, $need_array);
        $want =~ s/^\s+|\s+$//g if defined $want && !ref $want;
        Test::More::is($code, $want, "$name - status code ok");
    } else {
        Test::More::is($code, 200, "$name - status code ok");
    }
}

sub check_raw_response_headers {
    my ($block, $raw_headers, $req_idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->raw_response_headers_like) {
        my $pat = indexed($name, $block->raw_response_headers_like, $req_idx, $need_array);
        Test::More::like($raw_headers, qr/$pat/s, "$name - raw resp headers like");
    }
    if (defined $block->raw_response_headers_unlike) {
        my $pat = indexed($name, $block->raw_response_headers_unlike, $req_idx, $need_array);
        Test::More::unlike($raw_headers, qr/$pat/s, "$name - raw resp headers unlike");
    }
}

sub subst_port {
    my $s = shift;
    return $s if !defined $s || ref $s;
    $s =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
    $s =~ s/\$ServerPort\b/$ServerPort/g;
    return $s;
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $req_idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->response_headers) {
        my $spec = indexed($name, $block->response_headers, $req_idx, $need_array);
        for my $h (@{ parse_headers($spec) }) {
            my ($key, $want) = @$h;
            if (!defined $want) {
                Test::More::unlike($raw_headers, qr/^\s*\Q$key\E\s*:/msi,
                                   "$name - header $key not present in the raw headers");
                next;
            }
            my $got = $res ? $res->header($key) : undef;
            Test::More::is($got // '', subst_port($want), "$name - header $key ok");
        }
    } elsif (defined $block->response_headers_like) {
        my $spec = indexed($name, $block->response_headers_like, $req_idx, $need_array);
        for my $h (@{ parse_headers($spec) }) {
            my ($key, $pat) = @$h;
            my $got = $res ? $res->header($key) : undef;
            Test::More::like($got // '', qr/^$pat$/, "$name - header $key like ok");
        }
    }
}

# --- response_body_filters: names (uc lc md5_hex ...) or code refs,
# optionally one list per request.
sub transform_response_body {
    my ($block, $res, $req_idx) = @_;
    my $filters = $block->response_body_filters;
    return unless defined $filters && $res && defined $res->content;
    my $name = $block->name;
    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//g;
        $filters = [ split /\s+/, $filters ];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }
    if (ref $filters->[0] eq 'ARRAY') {
        $filters = $filters->[$req_idx]
            // bail_out("$name - no --- response_body_filters for request $req_idx");
    }
    my %named = (
        md5_hex => \&Digest::MD5::md5_hex, sha1_hex => \&Digest::SHA::sha1_hex,
        uc => sub { uc $_[0] }, lc => sub { lc $_[0] },
        ucfirst => sub { ucfirst $_[0] }, lcfirst => sub { lcfirst $_[0] },
        length => sub { length $_[0] },
    );
    my $content = $res->content;
    for my $f (@$filters) {
        my $code = ref $f eq 'CODE' ? $f : $named{$f}
            // bail_out("$name - unknown filter, \"$f\", specified in the "
                        . "--- response_body_filters section");
        $content = $code->($content);
    }
    $res->content($content);
}

sub check_response_body {
    my ($block, $res, $req_idx, $rep, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;

    if (defined $block->response_body || defined $block->response_body_eval) {
        my $expected;
        if (defined $block->response_body_eval) {
            $expected = eval indexed($name, $block->response_body_eval, $req_idx, $need_array);
            warn "$name - response_body_eval: $@" if $@;
        } else {
            $expected = indexed($name, $block->response_body, $req_idx, $need_array);
        }
        if (my $charset = $block->charset) {
            Encode::from_to($expected, 'UTF-8', $charset);
        }
        $expected = subst_port($expected);
        my $where = "(repeated req $rep, req $req_idx)";
        if (ref $expected eq 'Regexp') {
            Test::More::like($content, $expected, "$name - response_body - like $where");
        } else {
            compare_str($content, $expected,
                        "$name - response_body - response is expected $where");
        }
    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $spec = $type eq 'like' ? $block->response_body_like : $block->response_body_unlike;
        my $pat = subst_port(indexed($name, $spec, $req_idx, $need_array));
        my $summary = trim($content) // '';
        my $re = ref $pat eq 'Regexp' ? $pat : qr/$pat/s;
        no strict 'refs';
        &{"Test::More::$type"}($content, $re,
                               "$name - response_body_$type - response is expected ($summary)");
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $req_idx, $rep, 0);
    }
}

# Long strings get a position-of-difference report and, for multi-line
# values, a unified diff (unless no_diff()); no_long_string() falls back to
# plain is().
sub compare_str {
    my ($got, $expected, $title) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::More::is($got, $expected, $title)
        if $NoLongString || !defined $got || !defined $expected;
    my $ok = Test::LongString::is_string($got, $expected, $title);
    if (!$ok && !$ENV{TEST_SHOW_NO_DIFFS} && ($got =~ /\n./ || $expected =~ /\n./)) {
        Test::More::diag(Text::Diff::diff(\$expected, \$got,
                         { STYLE => 'Unified', FILENAME_A => 'expected',
                           FILENAME_B => 'got' }));
    }
    return $ok;
}

sub is_str {
    my ($got, $expected, $title) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::More::like($got, $expected, $title) if ref $expected eq 'Regexp';
    return compare_str($got, $expected, $title);
}

# ===========================================================================
# Logs
# ===========================================================================

# A section of patterns: lines of substrings, or (via eval) a qr// or an
# array mixing strings and qr//.
sub pattern_list {
    my $pats = shift;
    return [] unless defined $pats;
    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats] if ref $pats eq 'ARRAY';
    chomp(my $s = $pats);
    return [ grep { length } split /\n+/, $s ];
}

sub line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

sub fmt_str {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

sub mentions {
    my ($pats, $needle) = @_;
    for my $p (@$pats) {
        return 1 if !ref $p && index($p, $needle) >= 0;
        return 1 if ref $p eq 'Regexp' && "$p" =~ /\Q$needle\E/;
    }
    return 0;
}

# error_log / no_error_log / grep_error_log(_out) against the lines logged
# since the previous check (all lines with check_accum_error_log).
sub check_error_log {
    my ($block, $res, $rep, $need_array, %opts) = @_;
    my $name = $block->name;
    my $lines;
    my $get_lines = sub { $lines //= error_log_data(%opts) };

    my $grep_pat = $block->grep_error_log;
    $grep_pat = $grep_pat->[$rep] if ref $grep_pat eq 'ARRAY';
    if (defined $grep_pat) {
        my $expected = $block->grep_error_log_out;
        bail_out("$name - No --- grep_error_log_out defined but --- grep_error_log is defined")
            unless defined $expected;
        $expected = $expected->[$rep] if ref $expected eq 'ARRAY';
        my $matched = '';
        for my $line (@{ $get_lines->() }) {
            if (ref $grep_pat ? $line =~ $grep_pat : $line =~ /\Q$grep_pat\E/) {
                my $m = $&;
                $matched .= "$m\n" unless $m =~ /\n/;
            }
        }
        my $title = "$name - grep_error_log_out (req $rep)";
        if (ref $expected eq 'Regexp') {
            Test::More::like($matched, $expected, $title);
        } else {
            compare_str($matched, $expected, $title);
        }
    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but --- grep_error_log_out is defined");
    }

    my $want = pattern_list($block->error_log);
    my $dont = pattern_list($block->no_error_log);

    if (defined $block->error_log) {
        my @pending = @$want;
        for my $line (@{ $get_lines->() }) {
            for my $p (@pending) {
                next unless defined $p && line_matches($line, $p);
                Test::More::pass("$name - pattern \"$p\" matches a line in error.log (req $rep)");
                undef $p;
            }
        }
        for my $p (grep { defined } @pending) {
            Test::More::fail("$name - pattern \"$p\" should match a line in error.log (req $rep)");
        }
    }

    if (defined $block->no_error_log) {
        my %found;
        my $all = $get_lines->();
        for my $i (0 .. $#$all) {
            for my $p (@$dont) {
                next unless line_matches($all->[$i], $p);
                $found{$p}++;
                my @more = @$all[$i + 1 .. min($i + 9, $#$all)];
                Test::More::fail("$name - pattern \"" . fmt_str($p) . "\" should not match "
                    . "any line in error.log but matches line \"" . fmt_str($all->[$i])
                    . "\" (req $rep)\n" . join('', @more));
            }
        }
        for my $p (@$dont) {
            next if $found{$p};
            Test::More::pass("$name - pattern \"" . fmt_str($p)
                             . "\" does not match a line in error.log (req $rep)");
        }
    }

    # Loud but test-neutral reports, as upstream.  A must_die block expects
    # nginx's [emerg] complaint, so that one is not worth a warning there.
    my @all = (@$want, @$dont);
    for my $level (qw(alert crit emerg)) {
        next if $level eq 'emerg' && $opts{with_stderr};
        next if mentions(\@all, "[$level");
        for my $line (grep { /\[$level\]/ } @{ $get_lines->() }) {
            warn "WARNING: $name - " . fmt_str($line) . "\n";
        }
    }
    for my $line (@{ $get_lines->() }) {
        Test::More::fail("$name - $1") if $line =~ /(\bAssertion .*?failed\b.*)/;
    }
}

sub check_access_log {
    my ($block, $rep) = @_;
    my $name = $block->name;
    return unless defined $block->access_log || defined $block->no_access_log;
    my $lines = access_log_data();
    if (defined $block->access_log) {
        my @pending = @{ pattern_list($block->access_log) };
        for my $line (@$lines) {
            for my $p (@pending) {
                next unless defined $p && line_matches($line, $p);
                Test::More::pass("$name - pattern \"$p\" matches a line in access.log (req $rep)");
                undef $p;
            }
        }
        Test::More::fail("$name - pattern \"$_\" should match a line in access.log (req $rep)")
            for grep { defined } @pending;
    }
    if (defined $block->no_access_log) {
        for my $p (@{ pattern_list($block->no_access_log) }) {
            my @hits = grep { line_matches($_, $p) } @$lines;
            if (@hits) {
                Test::More::fail("$name - pattern \"" . fmt_str($p) . "\" should not match any "
                    . "line in access.log but matches line \"" . fmt_str($hits[0]) . "\" (req $rep)");
            } else {
                Test::More::pass("$name - pattern \"" . fmt_str($p)
                                 . "\" does not match a line in access.log (req $rep)");
            }
        }
    }
}

# --- shutdown_error_log / --- no_shutdown_error_log, checked once nginx
# has exited, against what it logged after the last request's checks.
sub check_shutdown_error_log {
    my $block = shift;
    my $name = $block->name;
    return unless defined $block->shutdown_error_log || defined $block->no_shutdown_error_log;
    my $lines = error_log_data();
    if (defined $block->shutdown_error_log) {
        my @pending = @{ pattern_list($block->shutdown_error_log) };
        for my $line (@$lines) {
            for my $p (@pending) {
                next unless defined $p && line_matches($line, $p);
                Test::More::pass("$name - pattern \"$p\" matches a line in error.log");
                undef $p;
            }
        }
        Test::More::fail("$name - pattern \"$_\" should match a line in error.log")
            for grep { defined } @pending;
    }
    if (defined $block->no_shutdown_error_log) {
        for my $p (@{ pattern_list($block->no_shutdown_error_log) }) {
            my @hits = grep { line_matches($_, $p) } @$lines;
            if (@hits) {
                Test::More::fail("$name - pattern \"" . fmt_str($p) . "\" should not match any "
                    . "line in error.log but matches line \"" . fmt_str($hits[0]) . "\"");
            } else {
                Test::More::pass("$name - pattern \"" . fmt_str($p)
                                 . "\" does not match a line in error.log");
            }
        }
    }
}

# ===========================================================================
# Mock peers
# ===========================================================================
sub check_mock_queries {
    my ($block, @mocks) = @_;
    my $name = $block->name;
    for my $m (@mocks) {
        my $got = read_query($m);
        if ($m->{kind} eq 'tcp') {
            is_str($got, $block->tcp_query, "$name - tcp_query ok")
                if defined $block->tcp_query;
            Test::More::is(length($got), $block->tcp_query_len, "$name - TCP query length ok")
                if defined $block->tcp_query_len;
        } else {
            is_str($got, $block->udp_query, "$name - udp_query ok")
                if defined $block->udp_query;
        }
    }
}

1;
__END__

=head1 NAME

Test::Nginx::Socket - this project's Test::Nginx-compatible test scaffold

=head1 RUNNING

    prove -I t/lib -r t/                 # all suites
    TEST_NGINX_RANDOMIZE=1 prove -j4 -I t/lib -r t/

Environment: TEST_NGINX_BINARY (default F<build/vendored/nginx>, else
C<nginx> in PATH), TEST_NGINX_LOAD_MODULES (space separated .so paths;
default F<build/vendored/ngx_http_lua_rs_module.so> when built; "" for
none), TEST_NGINX_SERVER_PORT / TEST_NGINX_PORT (1984),
TEST_NGINX_SERVROOT (F<t/servroot>), TEST_NGINX_RANDOMIZE (random port and
per-process server root), TEST_NGINX_NO_CLEAN (leave the last nginx
running), TEST_NGINX_LOG_LEVEL (debug), TEST_NGINX_TIMEOUT (3),
TEST_NGINX_NO_SHUFFLE, TEST_NGINX_CHECK_ACCUM_ERR_LOG,
TEST_NGINX_INIT_BY_LUA (Test::Nginx::Socket::Lua), TEST_NGINX_STREAM_PORT
(Test::Nginx::Socket::Lua::Stream), TEST_NGINX_VERBOSE.  Defaults are
provided for TEST_NGINX_REDIS_PORT (6379), TEST_NGINX_MEMCACHED_PORT
(11211) and TEST_NGINX_RESOLVER (127.0.0.1:53, there is no network);
TEST_NGINX_SERVER_ROOT and TEST_NGINX_HTML_DIR are set for tests to use.
C<$TEST_NGINX_*> is expanded in every section; C<$TEST_NGINX_RAND_PORT_N>
is a free port, the same for the whole block.

=head1 SECTIONS

Configuration: config, http_config, main_config, post_main_config,
user_files, init, log_level, server_name.

Requests: request (also C<eval> to an array of requests, or of packets),
request_eval, request_body, more_headers (string or array), raw_request
(string or array of pieces), raw_request_middle_delay, pipelined_requests,
timeout, abort, wait, shutdown, http09, server_addr_for_client.

Responses: error_code, error_code_like, response_body, response_body_eval,
response_body_like, response_body_unlike, response_body_filters,
response_headers (C<!Name> = absent), response_headers_like,
raw_response_headers_like, raw_response_headers_unlike, charset,
ignore_response.

Logs: error_log, no_error_log, grep_error_log, grep_error_log_out,
access_log, no_access_log, shutdown_error_log, no_shutdown_error_log.

Peers: tcp_listen, tcp_reply, tcp_query, tcp_query_len, tcp_reply_delay,
tcp_no_close, tcp_shutdown, tcp_shutdown_delay, udp_listen, udp_reply,
udp_query, udp_reply_delay.

Control: ONLY, SKIP, LAST, skip_nginx, skip_nginx2, skip_eval, todo,
must_die.

=head1 DIFFERENCES FROM UPSTREAM

nginx is started for every block (upstream's default too) as a child of
the test with C<daemon off>, and stopped with QUIT after the block.  A block
whose nginx cannot start fails one test ("nginx started") instead of
bailing out of the whole run.  After each block a test "nginx did not
crash" fails (and only then appears) when nginx died or its error log shows
a process exiting on a signal.  Test names carry the block name only (no
script path prefix).  worker_connections defaults to 1024.  The server
listens on 127.0.0.1 only.

=cut
