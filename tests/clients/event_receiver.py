"""An HTTPS receiver of Redfish push events, for the end-to-end tests: each
POST's body is appended to OUT as one line (the JSON event), and answered
with STATUS (200 by default; 500 to play a failing subscriber).

usage: event_receiver.py PORT CERT KEY OUT [STATUS]
Prints "listening" once it accepts connections.
"""
import http.server
import json
import ssl
import sys


def main():
    port, cert, key, out = sys.argv[1:5]
    status = int(sys.argv[5]) if len(sys.argv) > 5 else 200

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with open(out, "a", encoding="utf-8") as f:
                f.write(json.dumps(json.loads(body)) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
