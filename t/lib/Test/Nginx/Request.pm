package Test::Nginx::Request;

# Turns the request sections of a block (request, request_eval,
# more_headers, request_body, pipelined_requests, raw_request) into the
# byte strings sent to nginx.
#
# A request is an array of pieces { value => $bytes, delay_before => $s };
# pieces are written one after another, optionally with a pause in between
# (raw_request_middle_delay or a piece's own delay_before).

use strict;
use warnings;

use Exporter 'import';
use Test::Nginx::Util qw(bail_out $ServerName);

our @EXPORT_OK = qw(requests_from_block parse_more_headers build_request);

# "Name: value" lines -> "Name: value\r\n" text, plus whether the client
# announced a chunked body (then we must not add Content-Length).
sub parse_more_headers {
    my ($in) = @_;
    my ($out, $is_chunked) = ('', 0);
    for my $line (split /\n+/, $in // '') {
        next if $line =~ /^\s*#/ || $line !~ /\S/;
        $line =~ s/\r$//;
        my ($key, $val) = split /:\s*/, $line, 2;
        $val //= '';
        $is_chunked = 1 if lc $key eq 'transfer-encoding' && lc $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $is_chunked);
}

# Builds one HTTP request from the text of a "--- request" entry, which is
# "METHOD [URI [VERSION]]" on the first line and the body after it.  The text
# may come in several pieces; the result has as many pieces, split at the
# corresponding places, so that delays between pieces keep their meaning.
sub build_request {
    my ($name, $packets, $more_headers, $is_chunked, $conn, $extra_body) = @_;
    my $whole = join '', map { $_ // '' } @$packets;

    # Comment lines and blank lines before the request line are ignored.
    my $lead = 0;
    while ($whole =~ /\G(\s*#[^\n]*\n|\s+)/gc) { $lead = pos $whole }
    my $nl = index $whole, "\n", $lead;
    my $line_end = $nl < 0 ? length $whole : $nl + 1;
    my $line = substr $whole, $lead, $line_end - $lead;
    $line =~ s/\s+$//;
    bail_out("$name - Request line should be non-empty") if $line eq '';
    my ($meth, $uri, $ver, @extra) = split ' ', $line;
    bail_out("$name - Request line is not valid. Should be 'meth [url [version]]' "
             . "but got \"$line\".") if @extra;
    $uri //= '/';
    $ver //= 'HTTP/1.1';

    my $body = substr $whole, $line_end;
    my $body_lead = 0;
    my $len_header = '';
    my $needs_len = !$is_chunked
        && $more_headers !~ /(?:^|\n)Content-Length\s*:/i;
    if ($body eq '' && defined $extra_body && length $extra_body) {
        # --- request_body is sent byte for byte.
        $body = $extra_body;
        $len_header = 'Content-Length: ' . length($body) . "\r\n" if $needs_len;
    } elsif ($body ne '' && $needs_len) {
        # A body inline in --- request loses its surrounding whitespace
        # (the section's final newline is not part of it).
        ($body_lead) = $body =~ /^(\s*)/;
        $body_lead = length $body_lead;
        $body =~ s/^\s+|\s+$//g;
        $len_header = 'Content-Length: ' . length($body) . "\r\n";
    }

    my $headers = '';
    $headers .= "Host: $ServerName\r\n" unless $more_headers =~ /(?:^|\n)Host\s*:/i;
    $headers .= "Connection: $conn\r\n" unless $more_headers =~ /(?:^|\n)Connection\s*:/i;
    my $reqline = "$meth $uri $ver\r\n";
    my $head = "$reqline$headers$more_headers$len_header\r\n";
    my $new = $head . $body;

    return [$new] if @$packets <= 1;

    # Map each original piece boundary into the rebuilt request.
    my (@cuts, $off);
    for my $p (@$packets[0 .. $#$packets - 1]) {
        $off += length($p // '');
        my $mapped;
        if ($off < $line_end) {
            my $in_line = $off - $lead;
            $in_line = 0 if $in_line < 0;
            $mapped = $in_line < length $reqline ? $in_line : length($reqline) - 2;
        } else {
            my $in_body = $off - $line_end - $body_lead;
            $in_body = 0 if $in_body < 0;
            $in_body = length $body if $in_body > length $body;
            $mapped = length($head) + $in_body;
        }
        $mapped = $cuts[-1] if @cuts && $mapped < $cuts[-1];
        push @cuts, $mapped;
    }
    my (@out, $prev);
    $prev = 0;
    for my $cut (@cuts, length $new) {
        push @out, substr($new, $prev, $cut - $prev);
        $prev = $cut;
    }
    return \@out;
}

# Returns (\@requests, $pipelined_count).  Each request is an array of
# pieces; $pipelined_count is the number of responses expected on the one
# connection of a --- pipelined_requests block (0 otherwise).
sub requests_from_block {
    my ($block) = @_;
    my $name = $block->name;

    if (defined(my $raw = $block->raw_request)) {
        my @pieces = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        return ([[ map { ref $_ eq 'HASH' ? {%$_} : { value => $_ } } @pieces ]], 0);
    }

    my $request;
    if (defined $block->request_eval) {
        $request = eval $block->request_eval;
        warn "$name - request_eval: $@" if $@;
    } else {
        $request = $block->request;
    }
    my $more = $block->more_headers // '';
    my $extra_body = $block->request_body;

    my $headers_for = sub {
        my ($i, $what) = @_;
        my $h = $more;
        if (ref $more eq 'ARRAY') {
            $h = $more->[$i];
            bail_out("$name - --- more_headers lacks data for $what") unless defined $h;
        }
        return parse_more_headers($h);
    };

    if (my $reqs = $block->pipelined_requests) {
        bail_out("$name - invalid entries in --- pipelined_requests")
            unless ref $reqs eq 'ARRAY';
        my $all = '';
        for my $i (0 .. $#$reqs) {
            my ($hdr, $chunked) = $headers_for->($i, "pipelined request $i");
            my $conn = $i == $#$reqs ? 'close' : 'keep-alive';
            $all .= build_request($name, [$reqs->[$i]], $hdr, $chunked, $conn)->[0];
        }
        return ([[ { value => $all } ]], scalar @$reqs);
    }

    bail_out("$name - request empty") unless defined $request;

    if (!ref $request) {
        my ($hdr, $chunked) = $headers_for->(0, 'the request');
        my $r = build_request($name, [$request], $hdr, $chunked, 'close', $extra_body);
        return ([[ { value => $r->[0] } ]], 0);
    }

    bail_out("$name - invalid --- request: MUST be string or array of requests")
        unless ref $request eq 'ARRAY';

    my @list;
    for my $i (0 .. $#$request) {
        my $one = $request->[$i];
        my ($hdr, $chunked) = $headers_for->($i, "request $i");
        if (!ref $one) {
            my $r = build_request($name, [$one], $hdr, $chunked, 'close', $extra_body);
            push @list, [ { value => $r->[0] } ];
        } elsif (ref $one eq 'ARRAY') {
            # One request sent as several packets.
            my @orig = map {
                ref $_ eq 'HASH' ? {%$_}
                    : !ref $_ ? { value => $_ }
                    : bail_out("$name - Invalid syntax. $_ should be a string "
                               . "or hash with value.")
            } @$one;
            my $r = build_request($name, [ map { $_->{value} } @orig ], $hdr,
                                  $chunked, 'close', $extra_body);
            $orig[$_]{value} = $r->[$_] for 0 .. $#orig;
            push @list, \@orig;
        } else {
            bail_out("$name - Invalid syntax. $one should be a string or an "
                     . "array of packets.");
        }
    }
    return (\@list, 0);
}

1;
