#ifndef CCTR_CMOSQUITTO_SHIM_H
#define CCTR_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
/* OpenSSL's certificate verification result of libmosquitto's TLS connection
   (mosquitto_ssl_get), to say why a handshake failed: libmosquitto logs only
   "certificate verify failed" whether the certificate expired or its CA is unknown. */
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#endif
