# The pre-started Ruby of Runner Codes (docs/prestart.md). Started in a pooled sandbox as
# `ruby -e <this text>` with the job's uid, limits, cwd and environment (RubyGems, did_you_mean and
# error_highlight loaded, as for any script), it waits on fd 3 until the agent hands it a program:
# the job's argv, NUL-terminated entries, then EOF. It then runs the script as `ruby <script> <args>`
# would: ARGV, $0, the script compiled from its file (__FILE__, __dir__, require_relative, magic
# comments, BEGIN/END, its compile warnings), run at the top level; an exception that leaves it goes
# on to Ruby's own end of the program (at_exit hooks, the error printed, exit status, death by
# signal) with this program's frames cut from its backtrace. What it cannot reproduce exactly (an
# option before the script, options on a ruby shebang line, `__END__` and DATA, a syntax error, a
# script that reads backtraces of the running stack) it execs: a cold start in this same process.
# Its variables live in a block, not in TOPLEVEL_BINDING. Nothing here is a security boundary (the
# sandbox is).
proc do
  control = IO.new(3, 'r+b', autoclose: true)
  control.syswrite('R')
  argv = control.read.split("\0", -1)[0...-1]
  control.close
  script = argv[1]
  source = (File.binread(script) unless script.nil? || script.start_with?('-')) rescue nil
  # The shebang line's options, DATA after __END__: what only Ruby's own main-script loading does.
  # A script that reads a backtrace of the running stack (its own rescued exceptions', caller, a
  # Logger's report of one), TOPLEVEL_BINDING or trace events would see this block's frames.
  cold = source.nil? || source.match?(/\A#![^\n]*ruby[^\n]*[ \t]-/n) || source.match?(/^__END__\r?$/n) ||
         source.match?(/\b(?:caller|caller_locations|backtrace|backtrace_locations|full_message|TOPLEVEL_BINDING|Logger|TracePoint|set_trace_func)\b|\$@/n)
  unless cold
    # Compile warnings are held until the compile succeeds: a syntax error execs, and the fresh
    # interpreter prints them itself.
    held = []
    warning = Warning.method(:warn)
    Warning.singleton_class.send(:define_method, :warn) { |*a, **k| held << [a, k] }
    begin
      iseq = RubyVM::InstructionSequence.compile_file(script)
    rescue SyntaxError
      cold = true
    ensure
      Warning.singleton_class.send(:remove_method, :warn)
    end
  end
  # Kernel#exec with [path, argv0]: never a shell; Ruby restores the signals it changed.
  exec([argv[0], argv[0]], *argv[1..]) if cold
  held.each { |a, k| warning.call(*a, **k) }
  held = warning = source = nil
  ARGV.replace(argv[2..])
  $0 = script
  depth = caller_locations(0).size + 1 # this block's frames and the eval below
  begin
    iseq.eval
  rescue SystemExit
    raise
  rescue Exception => e # every exception, rescued only to be raised on to Ruby's own end
    # Ruby prints the causes too: each one raised under this block has its frames.
    seen = {}
    cause = e
    until cause.nil? || seen[cause.object_id]
      seen[cause.object_id] = true
      trace = cause.backtrace
      cause.set_backtrace(trace[0...-depth]) if trace && trace.size >= depth && trace.last(depth).all? { |line| line.start_with?('-e:') }
      cause = cause.cause
    end
    raise e
  end
end.call
