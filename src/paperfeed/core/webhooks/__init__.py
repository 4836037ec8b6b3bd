"""Chat delivery without Django: what a message holds, how each kind of receiver wants it written, how the generic
JSON body is signed, and which addresses a webhook may post to.

- `message`: the neutral message (a title, sections of papers, a link to the rest on the site);
- `formats`: the payload for each kind of receiver (Slack, Mattermost, Discord, JSON), within its documented limits;
- `text`: escaping for each markup, and trimming that never cuts an escape in half;
- `signing`: the HMAC-SHA256 signature of the JSON body and the headers it travels in;
- `destinations`: the URL checks (https, no credentials, public addresses only), at saving and at sending.
"""
