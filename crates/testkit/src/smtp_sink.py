"""An SMTP sink for Hubring's tests (aiosmtpd, Debian's python3-aiosmtpd).

Each message it accepts is written whole to DIR/NNNNNN.eml (written to a temporary name, then
renamed, so a reader never sees half a message). While DIR/refuse exists it answers every
message with a temporary failure (451), as a mail server that is briefly unable to take mail
does. Usage: python3 smtp_sink.py DIR PORT
"""

import asyncio
import itertools
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.directory, "refuse")):
            return "451 4.3.0 Not now: try again later"
        n = next(self.count)
        path = os.path.join(self.directory, f"{n:06}.eml")
        with open(path + ".tmp", "wb") as out:
            out.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            out.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    directory, port = sys.argv[1], int(sys.argv[2])
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    with open(os.path.join(directory, "ready"), "w") as ready:
        ready.write("ready")
    asyncio.new_event_loop().run_forever()


main()
