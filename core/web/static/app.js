/* Chartdesk web workstation */
"use strict";
