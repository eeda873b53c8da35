#!/bin/sh
# Example user data: treated as sensitive, never shown in plans.
echo "API_TOKEN=not-a-real-secret" > /etc/app.env
systemctl start app
