package Test::Nginx::Util;

# Settings, server-root layout, nginx.conf generation, nginx process
# management and log access for the Test::Nginx-compatible harness.
#
# Written for this project from the documented behaviour of the CPAN
# Test::Nginx distribution; it is not a copy of it.  Everything that talks
# HTTP lives in Test::Nginx::Socket and its helpers.

use strict;
use warnings;

use Exporter 'import';
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Socket::INET ();
use List::Util qw(shuffle);
use POSIX qw(:sys_wait_h SIGQUIT SIGTERM SIGKILL);
use Test::More ();
use Time::HiRes qw(sleep time);
use Carp qw(croak);

our @EXPORT = qw(
    repeat_each workers worker_connections master_on master_off
    master_process_enabled log_level no_long_string no_shuffle
    no_root_location check_accum_error_log env_to_nginx
    add_block_preprocessor config_preamble timeout server_addr server_name
    server_port server_port_for_client server_root html_dir log_dir
    no_nginx_manager use_hup add_cleanup_handler bail_out parse_time
    trim show_all_chars parse_headers is_running error_log_data
    access_log_data get_nginx_version get_canon_version sleep_time verbose
    expand_env_in_text setup_server_root write_config_file write_user_files
    start_nginx stop_nginx nginx_pid cleanup can_run gen_rand_port
    $ServerPort $ServerPortForClient $ServerAddr $ServerName
    $ServRoot $ServerRoot $HtmlDir $LogDir $ConfDir $ConfFile $PidFile
    $ErrLogFile $AccLogFile $NginxBinary $NginxVersion $NginxRawVersion
    $RepeatEach $NoLongString $LoadModules $Timeout $LogLevel
    $FilterHttpConfig @BlockPreprocessors $ErrLogFilePos
    $CheckAccumErrLog $NoShuffle $Verbose
);

# ---------------------------------------------------------------------------
# Where the repository lives: this file is <repo>/t/lib/Test/Nginx/Util.pm.
# The defaults for the nginx binary and the module come from <repo>/build.
# ---------------------------------------------------------------------------
our $RepoRoot = abs_path(File::Spec->catdir(dirname(__FILE__), ('..') x 4))
    // File::Spec->catdir(dirname(__FILE__), ('..') x 4);

sub default_binary {
    my $vendored = "$RepoRoot/build/vendored/nginx";
    return $vendored if -f $vendored && -x _;
    return 'nginx';
}

sub default_modules {
    my $so = "$RepoRoot/build/vendored/ngx_http_lua_rs_module.so";
    return -f $so ? $so : '';
}

our $Verbose           = $ENV{TEST_NGINX_VERBOSE};
our $NginxBinary       = $ENV{TEST_NGINX_BINARY} || default_binary();
our $LoadModules       = defined $ENV{TEST_NGINX_LOAD_MODULES}
                         ? $ENV{TEST_NGINX_LOAD_MODULES} : default_modules();
our $Randomize         = $ENV{TEST_NGINX_RANDOMIZE};
our $RepeatEach        = 1;
our $Workers           = 1;
# Upstream's 64 is too small for tests that open many upstream sockets.
our $WorkerConnections = 1024;
our $LogLevel          = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $ServerAddr        = '127.0.0.1';
our $ServerName        = 'localhost';
our $ServerPort        = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $Timeout           = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $NoShuffle         = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $CheckAccumErrLog  = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $TestNginxSleep    = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $NoRootLocation    = 0;
our $NoLongString;
our $NoNginxManager    = $ENV{TEST_NGINX_NO_NGINX_MANAGER} || 0;
our $ConfigPreamble    = '';
our $FilterHttpConfig;
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our ($NginxVersion, $NginxRawVersion);
our $ErrLogFilePos = 0;

srand($$ ^ time);

if ($Randomize) {
    $ServerPort = gen_rand_port(1000)
        or die "Cannot find a free port for TEST_NGINX_RANDOMIZE\n";
    $ServerPortForClient = $ServerPort;
}

our $ServRoot;
if ($Randomize) {
    # One server root per process so that "prove -j N" never shares one.
    $ServRoot = File::Spec->rel2abs("t/servroot_$ServerPort");
} else {
    $ServRoot = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
}
$ServRoot =~ s{/+$}{};
our $ServerRoot = $ServRoot;    # the name the harness docs of this repo use

our $LogDir     = "$ServRoot/logs";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $StderrFile = "$LogDir/nginx.stderr";

# Every $TEST_NGINX_* a test may reference gets a value, so that sections
# can always be expanded.  There is no network here, hence the resolver.
$ENV{TEST_NGINX_SERVER_PORT}    = $ServerPort;
$ENV{TEST_NGINX_CLIENT_PORT}  //= $ServerPortForClient;
$ENV{TEST_NGINX_SERVER_ROOT}    = $ServRoot;
$ENV{TEST_NGINX_HTML_DIR}       = $HtmlDir;
$ENV{TEST_NGINX_REDIS_PORT}   //= 6379;
$ENV{TEST_NGINX_MEMCACHED_PORT} //= 11211;
$ENV{TEST_NGINX_RESOLVER}     //= '127.0.0.1:53';

# ---------------------------------------------------------------------------
# Small setters/getters forming the public Perl API
# ---------------------------------------------------------------------------
sub repeat_each { $RepeatEach = shift if @_; $RepeatEach }
sub workers { $Workers = shift if @_; $Workers }
sub worker_connections { $WorkerConnections = shift if @_; $WorkerConnections }
sub master_on () { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }
sub master_process_enabled {
    $MasterProcessEnabled = $_[0] ? 'on' : 'off' if @_;
    $MasterProcessEnabled;
}
sub log_level { $LogLevel = shift if @_; $LogLevel }
sub no_long_string () { $NoLongString = 1 }
sub no_shuffle () { $NoShuffle = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub config_preamble ($) { $ConfigPreamble = shift }
sub timeout { $Timeout = shift if @_; $Timeout }
sub server_addr { $ServerAddr = shift if @_; $ServerAddr }
sub server_name { $ServerName = shift if @_; $ServerName }
sub server_port {
    if (@_) {
        $ServerPort = shift;
        $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
    }
    $ServerPort;
}
sub server_port_for_client { $ServerPortForClient = shift if @_; $ServerPortForClient }
sub server_root () { $ServRoot }
sub html_dir () { $HtmlDir }
sub log_dir () { $LogDir }
sub sleep_time () { $TestNginxSleep }
sub verbose () { $Verbose }
# Accepted for source compatibility; this harness always manages nginx
# itself and never reloads it with HUP.
sub no_nginx_manager () { $NoNginxManager = 1 }
sub use_hup () { }

sub env_to_nginx {
    croak "env_to_nginx: no arguments specified" unless @_;
    for my $v (@_) {
        croak "env_to_nginx: bad argument value: $v\n"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

# Preprocessors see every block before it runs (Test::Nginx semantics:
# later registrations run first).
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($) { unshift @CleanupHandlers, shift }

sub bail_out {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

# "100ms" -> 0.1, "2s" -> 2, "1.5" -> 1.5
sub parse_time {
    my $tm = shift;
    return undef unless defined $tm;
    $tm =~ s/^\s+|\s+$//g;
    return $1 / 1000 if $tm =~ /^([\d.]+)ms$/;
    return $1 if $tm =~ /^([\d.]+)s$/;
    return $tm;
}

sub trim {
    my $s = shift;
    return undef unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /g;
    $s =~ s/\s{2,}/ /g;
    $s;
}

sub show_all_chars {
    my $s = shift;
    $s =~ s/\n/\\n/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\t/\\t/g;
    $s;
}

# "Name: value" lines -> ordered list of [name, value]; "!Name" means the
# header must be absent (value undef).  A repeated name keeps its first
# position but takes the last value, like the hash upstream fills.
sub parse_headers {
    my $text = shift;
    my (@order, %val);
    for my $line (split /\n/, $text // '') {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        my ($key, $value);
        if ($line =~ s/^!\s*//) {
            ($key, $value) = ($line, undef);
        } else {
            ($key, $value) = split /\s*:\s*/, $line, 2;
            $value //= '';
        }
        push @order, $key unless exists $val{$key};
        $val{$key} = $value;
    }
    return [ map { [ $_, $val{$_} ] } @order ];
}

sub is_running {
    my $pid = shift;
    return 0 unless $pid && kill 0, $pid;
    # A zombie answers kill 0 but is gone for our purposes.
    if (open my $fh, '<', "/proc/$pid/stat") {
        my $stat = <$fh> // '';
        return 0 if $stat =~ /^\d+ \(.*\) Z/s;
    }
    return 1;
}

sub can_run {
    my $cmd = shift;
    if ($cmd =~ m{/}) {
        return -f $cmd && -x _ ? $cmd : undef;
    }
    for my $dir (split /:/, $ENV{PATH} // '') {
        next if $dir eq '';
        my $abs = "$dir/$cmd";
        return $abs if -f $abs && -x _;
    }
    return undef;
}

sub gen_rand_port {
    my ($tries, $used) = @_;
    $tries ||= 1000;
    $used  ||= {};
    for (1 .. $tries) {
        my $port = 1985 + int rand 60000;
        next if $used->{$port};
        my $sock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1', LocalPort => $port,
            Proto => 'tcp', ReuseAddr => 1, Listen => 1,
        ) or next;
        close $sock;
        return $port;
    }
    return undef;
}

sub get_canon_version { sprintf "%d.%03d%03d", @_[0 .. 2] }

sub get_nginx_version {
    return $NginxVersion if defined $NginxVersion;
    my $bin = can_run($NginxBinary)
        or bail_out("Cannot find the nginx executable \"$NginxBinary\" "
                    . "(set TEST_NGINX_BINARY)");
    my $out = `'$bin' -V 2>&1`;
    if ($out =~ m{(?:nginx|openresty)[^/\s]*/(\d+)\.(\d+)\.(\d+)}) {
        $NginxRawVersion = "$1.$2.$3";
        $NginxVersion = get_canon_version($1, $2, $3);
    } else {
        bail_out("Failed to parse the output of \"$bin -V\": $out");
    }
    return $NginxVersion;
}

# ---------------------------------------------------------------------------
# $TEST_NGINX_XXX expansion.  $TEST_NGINX_RAND_PORT_N gets a free port that
# stays the same for the whole block.
# ---------------------------------------------------------------------------
sub expand_env_in_text {
    my ($text, $name, $rand_ports, $strict) = @_;
    return $text unless defined $text && !ref $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            if (!defined $rand_ports->{$var}) {
                my %used = map { $_ => 1 } $ServerPort, grep { defined } values %$rand_ports;
                $rand_ports->{$var} = gen_rand_port(1000, \%used)
                    // bail_out("$name - no free port for $var");
            }
            $val = $rand_ports->{$var};
        } elsif (defined $ENV{$var}) {
            $val = $ENV{$var};
        } elsif ($strict) {
            bail_out("$name - No environment $var defined.\n");
        } else {
            $val = "\$$var";
        }
        $val;
    }ge;
    return $text;
}

# ---------------------------------------------------------------------------
# Server root
# ---------------------------------------------------------------------------
sub setup_server_root {
    if (-d $ServRoot) {
        # Only remove what we create, so a misdirected TEST_NGINX_SERVROOT
        # cannot wipe unrelated data.
        remove_tree($ConfDir, $HtmlDir, $LogDir,
                    glob("$ServRoot/*_temp"), glob("$ServRoot/*_cache"));
    }
    for my $dir ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $dir;
        make_path($dir) or bail_out("Failed to mkdir $dir: $!");
    }
    # Workers may run as an unprivileged user when we are not root.
    chmod 0777, $LogDir, $HtmlDir;
    open my $out, '>', "$HtmlDir/index.html"
        or bail_out("Can't write $HtmlDir/index.html: $!");
    print $out '<html><head><title>It works!</title></head>'
             . '<body>It works!</body></html>';
    close $out;
}

# --- user_files: ">>> name [touch -t date]" followed by the body, or an
# array of [name, body, date].
sub write_user_files {
    my ($block, $rand_ports) = @_;
    my $name  = $block->name;
    my $files = $block->user_files;
    return unless $files;

    if (!ref $files) {
        my @list;
        for my $line (split /^/, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+?))?\s*$/) {
                push @list, [$1, undef, $2];
            } elsif (@list) {
                $list[-1][1] .= $line;
            }
        }
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - user_files: only a string or an ARRAY is accepted");
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        $body //= '';
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        my $dir = dirname($path);
        make_path($dir) unless -d $dir;
        $body = expand_env_in_text($body, $name, $rand_ports);
        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            # Same date format as touch -t, interpreted in GMT.
            local $ENV{TZ} = 'GMT';
            system('touch', '-t', $date, $path) == 0
                or bail_out("$name - touch -t '$date' $path failed");
        }
    }
}

# ---------------------------------------------------------------------------
# nginx.conf
# ---------------------------------------------------------------------------
sub write_config_file {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;

    my $http_config = expand_env_in_text($block->http_config // '', $name,
                                         $rand_ports, 1);
    $http_config = $FilterHttpConfig->($http_config) if $FilterHttpConfig;
    my $main_config = expand_env_in_text($block->main_config // '', $name,
                                         $rand_ports, 1);
    my $post_main_config = expand_env_in_text($block->post_main_config // '',
                                              $name, $rand_ports, 1);
    my $server_name = $block->server_name // $ServerName;
    my $log_level = $block->log_level || $LogLevel;
    $config //= '';

    # load_module must precede any directive of the module it loads.
    my $modules = join '', map { "load_module $_;\n" }
                           grep { length } split /\s+/, $LoadModules // '';

    my $env = join '', map { my $v = /\s/ ? "'$_'" : $_; "env $v;\n" }
        qw(LD_PRELOAD LD_LIBRARY_PATH ASAN_OPTIONS MOCKEAGAIN
           MOCKEAGAIN_VERBOSE MOCKEAGAIN_WRITE_TIMEOUT_PATTERN),
        @EnvToNginx;

    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    # nginx refuses "user" unless the master runs as root; as root we keep
    # root so that workers can always write into the server root.
    my $user = $> == 0 ? "user root;\n" : '';

    open my $out, '>', $ConfFile or bail_out("Can't write $ConfFile: $!");
    print $out <<"_EOC_";
# generated by t/lib/Test/Nginx for: $name
${modules}worker_processes  $Workers;
daemon off;
master_process $MasterProcessEnabled;
error_log $ErrLogFile $log_level;
pid $PidFile;
$user$env
$main_config

http {
    access_log $AccLogFile;
    default_type text/plain;
    keepalive_timeout 68;

$http_config

    server {
        listen $ServerAddr:$ServerPort;
        server_name '$server_name';
        client_max_body_size 30M;

        # preamble
$ConfigPreamble
        # test case config
$config
        # end of test case config

$root_location    }
}

$post_main_config

events {
    accept_mutex off;
    worker_connections $WorkerConnections;
}
_EOC_
    close $out;
}

# ---------------------------------------------------------------------------
# nginx process.  We run it with "daemon off" as our own child: its exit
# status then tells us about crashes and failed starts, and no zombie is
# left to a PID 1 that may not reap.
# ---------------------------------------------------------------------------
our $NginxPid;

sub nginx_pid { $NginxPid }

sub nginx_command {
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', 'conf/nginx.conf');
    # Debian's binary has a compiled-in log path that may not be writable;
    # "-e" (nginx >= 1.19.5) keeps the startup messages in our log too.
    push @cmd, '-e', 'logs/error.log'
        if get_nginx_version() >= get_canon_version(1, 19, 5);
    return @cmd;
}

# Returns { ok => 1 } once nginx has written its pid file, or
# { ok => 0, status => $?, exit_code, signal, stderr } when it exited.
# With $opts{must_die} a started nginx is given a little longer to fail.
sub start_nginx {
    my (%opts) = @_;
    stop_stale_nginx();
    unlink $PidFile;

    my @cmd = nginx_command();
    warn "starting: @cmd\n" if $Verbose;
    my $pid = fork() // bail_out("fork() failed: $!");
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $StderrFile;
        { exec { $cmd[0] } @cmd }
        POSIX::_exit(127);
    }

    my $deadline = time + ($opts{start_timeout} || 10);
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            return exit_info($?);
        }
        if (-s $PidFile) {
            my $content = read_file($PidFile) // '';
            if ($content =~ /^\s*(\d+)/ && $1 == $pid) {
                if ($opts{must_die}) {
                    # Some failures (e.g. in init_worker) come right after
                    # the pid file is written.
                    my $grace = time + 0.3;
                    while (time < $grace) {
                        return exit_info($?) if waitpid($pid, WNOHANG) == $pid;
                        sleep 0.02;
                    }
                }
                $NginxPid = $pid;
                return { ok => 1, pid => $pid };
            }
        }
        sleep 0.01;
    }
    # Still alive but no pid file: let the requests find out.
    $NginxPid = $pid;
    return { ok => 1, pid => $pid, slow => 1 };
}

sub exit_info {
    my $status = shift;
    return {
        ok => 0, status => $status,
        exit_code => $status >> 8, signal => $status & 127,
        coredump => $status & 128,
        stderr => read_file($StderrFile) // '',
    };
}

sub read_file {
    my $f = shift;
    open my $in, '<', $f or return undef;
    local $/;
    my $s = <$in>;
    close $in;
    return $s;
}

# Stops the nginx we started.  Returns undef when it shut down on request,
# otherwise a description of how it had already died (crash detection).
sub stop_nginx {
    my $pid = $NginxPid;
    return undef unless $pid;
    undef $NginxPid;

    my $died;
    if (waitpid($pid, WNOHANG) == $pid) {
        my $st = $?;
        $died = ($st & 127) ? "nginx (pid $pid) was killed by signal "
                              . ($st & 127) . (($st & 128) ? ' (core dumped)' : '')
                            : "nginx (pid $pid) exited unexpectedly with code "
                              . ($st >> 8);
        return $died;
    }

    kill SIGQUIT, $pid;
    return $died if wait_child($pid, $Timeout > 5 ? $Timeout : 5);
    warn "WARNING: nginx $pid did not quit gracefully; sending TERM\n";
    kill SIGTERM, $pid;
    return $died if wait_child($pid, 2);
    warn "WARNING: killing nginx $pid with force\n";
    kill SIGKILL, $pid;
    waitpid($pid, 0);
    return $died;
}

sub wait_child {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (time < $deadline) {
        my $r = waitpid($pid, WNOHANG);
        return 1 if $r == $pid || $r == -1;
        sleep 0.01;
    }
    return 0;
}

# An nginx left by an earlier run (e.g. TEST_NGINX_NO_CLEAN) holds our
# port; it is not our child, so poll it instead of waiting for it.
sub stop_stale_nginx {
    return unless -f $PidFile;
    my ($pid) = (read_file($PidFile) // '') =~ /(\d+)/;
    return unless $pid && $pid != ($NginxPid // 0) && $pid != $$;
    return unless is_running($pid);
    # Only ever signal an nginx, never a recycled pid of something else.
    my $comm = read_file("/proc/$pid/cmdline") // '';
    return unless $comm =~ /nginx/;
    kill SIGQUIT, $pid;
    my $deadline = time + 5;
    sleep 0.02 while is_running($pid) && time < $deadline;
    kill SIGKILL, $pid if is_running($pid);
}

sub cleanup {
    for my $hdl (@CleanupHandlers) { $hdl->() }
    # Mock servers register their own cleanup through the handlers above.
    # TEST_NGINX_NO_CLEAN keeps the last nginx running for inspection.
    stop_nginx() if $NginxPid && !$ENV{TEST_NGINX_NO_CLEAN};
}

# ---------------------------------------------------------------------------
# Logs.  error_log_data returns the lines written since the previous call
# (or all lines with check_accum_error_log), like upstream.
# ---------------------------------------------------------------------------
sub error_log_data {
    my (%opts) = @_;
    # nginx may still be logging (log phase runs after the response).
    sleep $TestNginxSleep * 3;
    my @lines;
    if (open my $in, '<', $ErrLogFile) {
        seek $in, $ErrLogFilePos, 0 if !$CheckAccumErrLog && $ErrLogFilePos;
        @lines = <$in>;
        $ErrLogFilePos = tell $in unless $CheckAccumErrLog;
        close $in;
    }
    if ($opts{with_stderr}) {
        # A failed start may only be reported on stderr.
        if (open my $in, '<', $StderrFile) {
            push @lines, <$in>;
            close $in;
        }
    }
    return \@lines;
}

sub access_log_data {
    sleep $TestNginxSleep * 3;
    open my $in, '<', $AccLogFile or return [];
    my @lines = <$in>;
    close $in;
    return \@lines;
}

END {
    # Children (mock servers) must not tear down the parent's nginx.
    if ($NginxPid && !$ENV{TEST_NGINX_NO_CLEAN} && $$ == ($Test::Nginx::Util::MainPid // $$)) {
        local $?;
        cleanup();
    }
    if ($Randomize && !$ENV{TEST_NGINX_NO_CLEAN} && $$ == ($Test::Nginx::Util::MainPid // $$)
        && -d $ServRoot && $ServRoot =~ m{/t/servroot_\d+$}) {
        remove_tree($ServRoot);
    }
}

our $MainPid = $$;

1;
