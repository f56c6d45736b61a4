{
  "name": "Room booking",
  "auth": {
    "signup": "open"
  },
  "entities": {
    "Booking": {
      "fields": {
        "room": {
          "type": "string",
          "required": true,
          "max_length": 80
        },
        "day": {
          "type": "date",
          "required": true
        },
        "attendees": {
          "type": "integer"
        },
        "purpose": {
          "type": "text"
        }
      },
      "access": "owner"
    }
  }
}
