#ifndef CCTR_CMOSQUITTO_SHIM_H
#define CCTR_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
