# The Ruby demo app: Sinatra on 0.0.0.0:8000; GET / answers with the line of Ruby
# that prints hello world, as the classic Docker + HAProxy demo does.
require 'sinatra'

set :bind, '0.0.0.0'
set :port, 8000
set :server, 'webrick'
set :logging, false

# As a container's PID 1 the kernel ignores SIGTERM unless it is handled.
Signal.trap('TERM') { exit }

get '/' do
  content_type 'text/plain'
  "puts 'Hello world!'\n"
end
