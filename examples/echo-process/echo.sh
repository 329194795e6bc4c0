#!/bin/sh
# A "process" interface task: one process per invocation, the event on stdin, the response
# on stdout, exit 0 for success. Anything on stderr goes to the task's log (and, on a
# non-zero exit, into the error detail).
echo "echo-process: handling an event" >&2
printf '{"echo":'
cat
printf '}\n'
