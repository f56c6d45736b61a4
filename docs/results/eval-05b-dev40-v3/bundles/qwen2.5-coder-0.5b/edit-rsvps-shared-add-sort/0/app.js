{
  "name": "Event RSVP list",
  "auth": {
    "signup": "open"
  },
  "entities": {
    "Rsvp": {
      "fields": {
        "guest_name": {
          "type": "string",
          "required": true,
          "max_length": 120},
        "party_size": {
          "type": "integer",
          "required": true},
        "answer": {
          "type": "enum",
          "values": [
            "yes",
            "no",
            "maybe"
          ]
        }
      },
      "access": "shared"
    }
  }
}
