# The Ruby demo app: Sinatra on 0.0.0.0:8000, GET / answers what puts 'Hello world!' prints.
require 'sinatra'

set :bind, '0.0.0.0'
set :port, 8000
set :server, 'webrick'
set :logging, false

get '/' do
  content_type 'text/plain'
  "Hello world!\n"
end
