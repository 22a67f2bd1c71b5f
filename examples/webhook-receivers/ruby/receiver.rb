# A Portal webhook receiver using only Ruby's standard library (and webrick, a gem since Ruby 3.0:
# `apt-get install ruby-webrick` or `gem install webrick`).
#
#   WEBHOOK_SECRET=whsec_... PORT=8080 ruby receiver.rb
require "json"
require "openssl"
require "webrick"

TOLERANCE_SECONDS = 5 * 60
MAX_BODY_BYTES = 1024 * 1024
REMEMBERED_IDS = 100_000

class Rejected < StandardError
  attr_reader :status

  def initialize(status, reason)
    super(reason)
    @status = status
  end
end

def verify(key, request, body)
  id = request["webhook-id"]
  timestamp = request["webhook-timestamp"]
  signatures = request["webhook-signature"]
  if [id, timestamp, signatures].any? { |value| value.nil? || value.empty? }
    raise Rejected.new(400, "missing webhook-id, webhook-timestamp or webhook-signature")
  end
  raise Rejected.new(400, "webhook-timestamp is not a number") unless timestamp.match?(/\A\d+\z/)
  # A tight window makes a captured delivery useless for replay soon after.
  raise Rejected.new(401, "timestamp too far from now") if (Time.now.to_i - timestamp.to_i).abs > TOLERANCE_SECONDS

  expected = OpenSSL::HMAC.digest("SHA256", key, "#{id}.#{timestamp}.".b + body.b)
  signatures.split(" ").each do |entry|
    version, value = entry.split(",", 2)
    next unless version == "v1" && value

    candidate = value.unpack1("m0") rescue next
    return if candidate.bytesize == expected.bytesize && OpenSSL.fixed_length_secure_compare(candidate, expected)
  end
  raise Rejected.new(401, "no valid signature")
end

secret = ENV.fetch("WEBHOOK_SECRET", "")
abort("set WEBHOOK_SECRET to the subscription's secret (whsec_...)") unless secret.start_with?("whsec_")
key = secret.delete_prefix("whsec_").unpack1("m0")
port = Integer(ENV.fetch("PORT", "8080"))

# Deliveries are at least once: the same webhook-id may arrive again and must not be processed twice.
# Production code keeps these ids in its database for longer than the sender retries (3 days).
seen = {}
lock = Mutex.new

$stdout.sync = true
server = WEBrick::HTTPServer.new(
  BindAddress: "127.0.0.1", Port: port, Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN), AccessLog: []
)
server.mount_proc "/" do |request, response|
  begin
    raise Rejected.new(405, "POST only") unless request.request_method == "POST"

    body = request.body || ""
    raise Rejected.new(413, "body too large") if body.bytesize > MAX_BODY_BYTES

    verify(key, request, body)
    id = request["webhook-id"]
    lock.synchronize do
      unless seen.key?(id)
        event = begin
          JSON.parse(body)
        rescue JSON::ParserError
          raise Rejected.new(400, "body is not JSON")
        end
        puts "accepted #{event["type"]} #{id}"
        seen[id] = true
        seen.shift if seen.size > REMEMBERED_IDS
      end
    end
    response.status = 204
  rescue Rejected => e
    response.status = e.status
    response["content-type"] = "text/plain"
    response.body = e.message
  end
end
trap("INT") { server.shutdown }
trap("TERM") { server.shutdown }
puts "listening on 127.0.0.1:#{server.config[:Port]}"
server.start
